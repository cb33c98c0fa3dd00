package cli

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/testutil"
)

// update rewrites the golden files with what the commands print now; review the diff.
var update = flag.Bool("update", false, "rewrite testdata/*.golden with what the commands print now")

// trtcRoutes routes TRTC events: one exactly, recordings by pattern, the rest to the
// catch-all.
const trtcRoutes = `
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}, recordings: {url: "http://127.0.0.1:9002/rec"}}
routes:
  - commands: ["TRTC.1.103"]
    upstream: rooms
    deadline: 4s
  - commands: ["TRTC.3.*"]
    upstream: recordings
    async: true
  - commands: ["*"]
`

// goldenCommands are the commands each golden file explains with routes -command: an exact
// match, the same ignoring case, a pattern, the catch-all, a command Tencent may add later
// and TRTC events.
var goldenCommands = []string{"Live.CallbackBeforeSendGift", "live.callbackbeforesendgift", "Live.CallbackAfterCreateRoom",
	"Group.CallbackBeforeSendMsg", "Brand.NewCommand", "TRTC.1.103", "TRTC.3.311", "TRTC.2.201"}

// TestRoutesGolden: for each config, the route table and the explanation of each of
// goldenCommands are exactly what testdata/routes-<config>.golden holds (go test ./cli
// -run TestRoutesGolden -update rewrites them), and never show a token or an upstream's
// query.
func TestRoutesGolden(t *testing.T) {
	isolate(t)
	for name, yaml := range map[string]string{"good": goodConfig, "apps": byApp, "trtc": trtcRoutes, "no-catch-all": noCatchAll} {
		t.Run(name, func(t *testing.T) {
			cfg := testutil.WriteFile(t, "config.yaml", yaml)
			var out strings.Builder
			for _, args := range append([][]string{nil}, commandArgs(goldenCommands)...) {
				code, stdout, stderr := run(t, append([]string{"routes", "-config", cfg}, args...)...)
				if code != ExitOK {
					t.Fatalf("routes %v: exit code %d, want %d (stderr %q)", args, code, ExitOK, stderr)
				}
				fmt.Fprintf(&out, "$ callback-router routes%s\n%s", strings.TrimRight(" "+strings.Join(args, " "), " "), stdout)
			}
			checkGolden(t, filepath.Join("testdata", "routes-"+name+".golden"), out.String())
			for _, secret := range []string{routeToken, upstreamKey} {
				if strings.Contains(out.String(), secret) {
					t.Errorf("routes output reveals %q:\n%s", secret, out.String())
				}
			}
		})
	}
}

func commandArgs(commands []string) [][]string {
	var args [][]string
	for _, c := range commands {
		args = append(args, []string{"-command", c})
	}
	return args
}

// checkGolden compares got with the golden file at path, or rewrites the file with -update.
func checkGolden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if got != string(want) {
		t.Errorf("output differs from %s (run with -update to accept it, then review the diff)\n--- got:\n%s--- want:\n%s", path, got, want)
	}
}

func TestRoutesCommand(t *testing.T) {
	isolate(t)
	withCatchAll := testutil.WriteFile(t, "config.yaml", goodConfig)
	without := testutil.WriteFile(t, "config.yaml", noCatchAll)
	trtc := testutil.WriteFile(t, "config.yaml", trtcRoutes)
	tests := []struct {
		name    string
		config  string
		command string
		want    []string
	}{
		{name: "exact", config: withCatchAll, command: "Live.CallbackBeforeSendGift",
			want: []string{"route gifts", `exact match on "Live.CallbackBeforeSendGift"`, "sync gifts=", "deadline 1.5s"}},
		{name: "exact ignoring case", config: withCatchAll, command: "live.callbackbeforesendgift",
			want: []string{"route gifts", "exact match"}},
		{name: "prefix", config: withCatchAll, command: "Live.CallbackAfterCreateRoom",
			want: []string{"route notifications", `longest matching pattern "Live.CallbackAfter*"`, "async"}},
		{name: "catch-all", config: withCatchAll, command: "Group.CallbackBeforeSendMsg",
			want: []string{"route everything-else", `catch-all "*"`, "no upstream"}},
		{name: "unknown command to catch-all", config: withCatchAll, command: "Brand.NewCommand",
			want: []string{"route everything-else", "catch-all"}},
		{name: "no route", config: without, command: "Group.CallbackBeforeSendMsg",
			want: []string{"Group.CallbackBeforeSendMsg (app any) -> no route", "defaults' fallback allow", "no_route"}},
		{name: "a TRTC room event", config: trtc, command: "TRTC.1.103",
			want: []string{"route TRTC.1.103", `exact match on "TRTC.1.103"`, "sync rooms=", "deadline 4s", `a TRTC event: the router's own answers (async, fallbacks) are {"code":0}, within 5s`}},
		{name: "a TRTC recording event", config: trtc, command: "TRTC.3.311",
			want: []string{"route TRTC.3.*", `longest matching pattern "TRTC.3.*"`, "async recordings=", `{"code":0}`}},
		{name: "a TRTC event on the catch-all", config: trtc, command: "TRTC.2.201",
			want: []string{"route *", "catch-all", `{"code":0}, within 2s`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "routes", "-config", tt.config, "-command", tt.command)
			if got, want := code, ExitOK; got != want {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", got, want, stderr)
			}
			testutil.CheckText(t, "routes -command "+tt.command, stdout, tt.want, []string{upstreamKey})
		})
	}
}

// byApp serves two apps, staging with its own gift route.
const byApp = `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: ["` + routeToken + `"]}
    - {sdk_app_id: 1400000002, name: staging}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  staging-gifts: {url: "http://127.0.0.1:9002/gifts"}
routes:
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - name: staging-gifts
    commands: ["Live.CallbackBeforeSendGift"]
    apps: [staging]
    upstream: staging-gifts
  - name: staging-rest
    commands: ["*"]
    apps: [staging]
`

func TestRoutesCommandByApp(t *testing.T) {
	isolate(t)
	cfg := testutil.WriteFile(t, "config.yaml", byApp)
	tests := []struct {
		name     string
		args     []string
		wantCode int
		want     []string // in stdout, or in stderr when the code is not ExitOK
		lines    int      // lines printed on stdout
	}{
		{name: "prod", args: []string{"-command", "Live.CallbackBeforeSendGift", "-app", "prod"}, wantCode: ExitOK, lines: 1,
			want: []string{"(app prod) -> route gifts:", `exact match on "Live.CallbackBeforeSendGift"; sync gifts=`}},
		{name: "staging by name", args: []string{"-command", "Live.CallbackBeforeSendGift", "-app", "staging"}, wantCode: ExitOK, lines: 1,
			want: []string{"(app staging) -> route staging-gifts:", "naming app staging, which beats route gifts (for every app)", "staging-gifts=http://127.0.0.1:9002/gifts"}},
		{name: "staging by SdkAppid", args: []string{"-command", "Live.CallbackBeforeSendGift", "-app", "1400000002"}, wantCode: ExitOK, lines: 1,
			want: []string{"(app staging) -> route staging-gifts:"}},
		{name: "app's catch-all", args: []string{"-command", "Group.CallbackBeforeSendMsg", "-app", "staging"}, wantCode: ExitOK, lines: 1,
			want: []string{"route staging-rest:", `catch-all "*"`, "in a route naming app staging;"}},
		{name: "prod has no catch-all", args: []string{"-command", "Group.CallbackBeforeSendMsg", "-app", "prod"}, wantCode: ExitOK, lines: 1,
			want: []string{"(app prod) -> no route"}},
		{name: "every app in turn", args: []string{"-command", "Live.CallbackBeforeSendGift"}, wantCode: ExitOK, lines: 2,
			want: []string{"(app prod) -> route gifts:", "(app staging) -> route staging-gifts:"}},
		{name: "unknown app", args: []string{"-command", "Live.CallbackBeforeSendGift", "-app", "production"}, wantCode: ExitUsage,
			want: []string{`no app "production"`, "prod, staging"}},
		{name: "app without command", args: []string{"-app", "prod"}, wantCode: ExitUsage, want: []string{"-app needs -command"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, append([]string{"routes", "-config", cfg}, tt.args...)...)
			if got, want := code, tt.wantCode; got != want {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", got, want, stderr)
			}
			out := stdout
			if code != ExitOK {
				out = stderr
			}
			testutil.CheckText(t, fmt.Sprintf("routes %v", tt.args), out, tt.want, nil)
			if got, want := strings.Count(stdout, "\n"), tt.lines; got != want {
				t.Errorf("routes %v printed %d lines, want %d:\n%s", tt.args, got, want, stdout)
			}
			if strings.Contains(stdout+stderr, routeToken) {
				t.Errorf("routes reveals a token:\n%s%s", stdout, stderr)
			}
		})
	}
}

func TestRoutesBadConfig(t *testing.T) {
	isolate(t)
	runFails(t, ExitError, "routes[0].upstream", "routes", "-config", testutil.WriteFile(t, "config.yaml", badConfig))
}
