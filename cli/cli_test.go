package cli

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// run drives Main as the binary would and returns the exit code and both streams.
func run(t *testing.T, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, &out, &errOut)
	return code, out.String(), errOut.String()
}

// runFails runs the command line args and expects it to exit with code, its stderr saying
// want.
func runFails(t *testing.T, code int, want string, args ...string) {
	t.Helper()
	got, _, stderr := run(t, args...)
	if got != code {
		t.Errorf("%v: exit code: got %d, want %d", args, got, code)
	}
	if !strings.Contains(stderr, want) {
		t.Errorf("%v: stderr %q does not contain %q", args, stderr, want)
	}
}

// isolate keeps the caller's environment from choosing a config or a token.
func isolate(t *testing.T) {
	t.Helper()
	t.Setenv("CALLBACK_ROUTER_CONFIG", "")
	t.Setenv("CALLBACK_ROUTER_TENCENT_AUTH_TOKEN", "")
}

const (
	routeToken  = "s3cr3t-route-token"
	upstreamKey = "upstream-secret-key"
)

// goodConfig has a route of every kind, a token and an upstream URL with a credential in its
// query, neither of which may be printed.
const goodConfig = `
tencent:
  sdk_app_ids: [1400000001]
  auth_token: "` + routeToken + `"
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts?key=` + upstreamKey + `"}
  audit: {url: "http://127.0.0.1:9003/events"}
  analytics: {url: "http://127.0.0.1:9004/events"}
routes:
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 1500ms
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
  - name: notifications
    commands: ["Live.CallbackAfter*", "Mic.*"]
    upstreams: [audit, analytics]
    async: true
  - name: everything-else
    commands: ["*"]
`

// noCatchAll has no "*" route, so an unknown command has no route.
const noCatchAll = `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
`

// badConfig has three problems, each with its key.
const badConfig = `
server: {path: "callbacks"}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: giftz
    deadline: 3s
`

func TestVersion(t *testing.T) {
	code, stdout, _ := run(t, "version")
	if got, want := code, ExitOK; got != want {
		t.Errorf("exit code: got %d, want %d", got, want)
	}
	if !strings.HasPrefix(stdout, "callback-router ") || strings.Count(stdout, "\n") != 1 {
		t.Errorf("version printed %q, want one line starting with %q", stdout, "callback-router ")
	}
}

func TestUsageErrors(t *testing.T) {
	isolate(t)
	tests := []struct {
		name string
		args []string
		want string // in stderr
	}{
		{name: "unknown command", args: []string{"frobnicate"}, want: `unknown command "frobnicate"`},
		{name: "unknown flag", args: []string{"validate", "-bogus"}, want: "bogus"},
		{name: "stray argument", args: []string{"validate", "extra"}, want: "expected 0 argument(s)"},
		{name: "send without a file", args: []string{"send"}, want: "expected 1 argument(s)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runFails(t, ExitUsage, tt.want, tt.args...)
		})
	}
}

func TestValidate(t *testing.T) {
	isolate(t)
	tests := []struct {
		name       string
		path       string
		wantCode   int
		wantStdout []string
		wantStderr []string
	}{
		{name: "good file", path: testutil.WriteFile(t, "config.yaml", goodConfig), wantCode: ExitOK, wantStdout: []string{"ok (3 upstreams, 3 routes)"}},
		{name: "bad file", path: testutil.WriteFile(t, "config.yaml", badConfig), wantCode: ExitError,
			wantStderr: []string{"3 problem(s)", "server.path: ", "routes[0].upstream: ", "routes[0].deadline: "}},
		{name: "unknown key", path: testutil.WriteFile(t, "config.yaml", "server: {lisen: x}\n"+noCatchAll), wantCode: ExitError,
			wantStderr: []string{"1 problem(s)", "server.lisen: unknown key"}},
		{name: "missing file", path: filepath.Join(t.TempDir(), "absent.yaml"), wantCode: ExitError, wantStderr: []string{"absent.yaml"}},
		{name: "empty file", path: testutil.WriteFile(t, "config.yaml", ""), wantCode: ExitError, wantStderr: []string{"empty"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, stdout, stderr := run(t, "validate", "-config", tt.path)
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code: got %d, want %d (stderr %q)", got, want, stderr)
			}
			testutil.CheckText(t, "validate's stdout", stdout, tt.wantStdout, nil)
			testutil.CheckText(t, "validate's stderr", stderr, tt.wantStderr, nil)
		})
	}
}

func TestValidateConfigFromEnvironment(t *testing.T) {
	isolate(t)
	t.Setenv("CALLBACK_ROUTER_CONFIG", testutil.WriteFile(t, "config.yaml", badConfig))
	runFails(t, ExitError, "routes[0].upstream", "validate")
}

// recorded is a request the fake router received.
type recorded struct {
	Method string
	Path   string
	Query  url.Values
	Header http.Header
	Body   []byte
}

// fakeRouter is a loopback server standing in for callback-router: it records each request
// and answers with a fixed status, headers and body.
type fakeRouter struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []recorded
}

func startFakeRouter(t *testing.T, status int, header http.Header, body string) *fakeRouter {
	t.Helper()
	f := &fakeRouter{}
	f.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		f.mu.Lock()
		f.reqs = append(f.reqs, recorded{Method: r.Method, Path: r.URL.Path, Query: r.URL.Query(), Header: r.Header.Clone(), Body: b})
		f.mu.Unlock()
		for k, v := range header {
			w.Header()[k] = v
		}
		w.WriteHeader(status)
		io.WriteString(w, body)
	}))
	t.Cleanup(f.Close)
	return f
}

// only returns the one request received.
func (f *fakeRouter) only(t *testing.T) recorded {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if got, want := len(f.reqs), 1; got != want {
		t.Fatalf("fake router got %d requests, want %d", got, want)
	}
	return f.reqs[0]
}

const giftFile = "../examples/callbacks/Live.CallbackBeforeSendGift.json"

func TestSend(t *testing.T) {
	isolate(t)
	giftBytes, err := os.ReadFile(giftFile)
	if err != nil {
		t.Fatal(err)
	}
	const answer = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
	signed := testutil.WriteFile(t, "config.yaml", `
tencent: {sdk_app_ids: [1600000009], auth_token: "config-token"}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"]}]
`)
	apps := testutil.WriteFile(t, "config.yaml", `
tencent:
  apps:
    - {sdk_app_id: 1400000011, name: prod, tokens: ["prod-token"]}
    - {sdk_app_id: 1400000012, name: staging, tokens: ["staging-token"]}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"]}]
`)
	tests := []struct {
		name        string
		args        []string // before -url and the file
		path        string   // appended to the fake router's URL
		wantToken   string   // "" means unsigned
		wantAppID   string
		wantPath    string
		wantExtraQS string // a parameter of the URL's own query that must survive
	}{
		{name: "unsigned", wantAppID: "1400000001", wantPath: "/"},
		{name: "signed with -token", args: []string{"-token", "flag-token"}, wantToken: "flag-token", wantAppID: "1400000001", wantPath: "/"},
		{name: "-sdkappid", args: []string{"-sdkappid", "1400000042"}, wantAppID: "1400000042", wantPath: "/"},
		{name: "token and app from the config", args: []string{"-config", signed}, wantToken: "config-token", wantAppID: "1600000009", wantPath: "/"},
		{name: "-token beats the config", args: []string{"-config", signed, "-token", "flag-token"}, wantToken: "flag-token", wantAppID: "1600000009", wantPath: "/"},
		{name: "first app of tencent.apps", args: []string{"-config", apps}, wantToken: "prod-token", wantAppID: "1400000011", wantPath: "/"},
		{name: "-sdkappid picks the app's own token", args: []string{"-config", apps, "-sdkappid", "1400000012"}, wantToken: "staging-token", wantAppID: "1400000012", wantPath: "/"},
		{name: "-sdkappid of an app not in the config: unsigned", args: []string{"-config", apps, "-sdkappid", "1400000013"}, wantAppID: "1400000013", wantPath: "/"},
		{name: "URL with a path and a query of its own", path: "/tencent/cb?tenant=blue", wantAppID: "1400000001", wantPath: "/tencent/cb", wantExtraQS: "tenant"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakeRouter(t, http.StatusOK, nil, answer)
			target := f.URL + tt.path
			if tt.path == "" {
				target += "/"
			}
			args := append(append([]string{"send"}, tt.args...), "-url", target, giftFile)
			before := time.Now()
			code, stdout, stderr := run(t, args...)
			if got, want := code, ExitOK; got != want {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", got, want, stderr)
			}
			req := f.only(t)
			if got, want := req.Method, http.MethodPost; got != want {
				t.Errorf("method: got %s, want %s", got, want)
			}
			if got, want := req.Path, tt.wantPath; got != want {
				t.Errorf("path: got %s, want %s", got, want)
			}
			if !bytes.Equal(req.Body, giftBytes) {
				t.Errorf("body: got %q, want the file's bytes %q", req.Body, giftBytes)
			}
			q := req.Query
			for _, c := range []struct{ name, want string }{
				{"SdkAppid", tt.wantAppID},
				{"CallbackCommand", "Live.CallbackBeforeSendGift"},
				{"contenttype", "json"},
			} {
				if got := q.Get(c.name); got != c.want {
					t.Errorf("query %s: got %q, want %q", c.name, got, c.want)
				}
			}
			if tt.wantExtraQS != "" && !q.Has(tt.wantExtraQS) {
				t.Errorf("query %v lost the URL's own %s", q, tt.wantExtraQS)
			}
			sign := q.Get("Sign")
			if tt.wantToken == "" {
				if q.Has("Sign") || q.Has("RequestTime") {
					t.Errorf("unsigned send has Sign %q, RequestTime %q; want neither", sign, q.Get("RequestTime"))
				}
			} else {
				rt := q.Get("RequestTime")
				sec, err := strconv.ParseInt(rt, 10, 64)
				if err != nil {
					t.Fatalf("RequestTime %q is not Unix seconds: %v", rt, err)
				}
				if d := time.Unix(sec, 0).Sub(before); d < -5*time.Second || d > 5*time.Second {
					t.Errorf("RequestTime %s is %v away from now, want within 5s", rt, d)
				}
				if got, want := sign, tencent.Sign(tt.wantToken, rt); got != want {
					t.Errorf("Sign: got %q, want tencent.Sign(%q, %q) = %q", got, tt.wantToken, rt, want)
				}
				if strings.Contains(stdout+stderr, sign) {
					t.Errorf("output reveals the Sign %q:\n%s", sign, stdout)
				}
				if strings.Contains(stdout+stderr, tt.wantToken) {
					t.Errorf("output reveals the token %q:\n%s", tt.wantToken, stdout)
				}
			}
			testutil.CheckText(t, "send's output", stdout, []string{"200 OK", answer}, nil)
		})
	}
}

func TestSendPrintsTheAnswer(t *testing.T) {
	isolate(t)
	const deny = `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`
	tests := []struct {
		name     string
		status   int
		header   http.Header
		body     string
		wantCode int
		want     []string
		dontWant []string
	}{
		{name: "fallback", status: http.StatusOK, body: deny, wantCode: ExitOK,
			header: http.Header{"X-Callback-Fallback": {"timeout"}, "X-Request-Id": {"abc-1"}},
			want:   []string{"200 OK", "X-Callback-Fallback: timeout", "X-Request-Id: abc-1", deny}},
		{name: "upstream answer has no fallback header", status: http.StatusOK, body: `{"ErrorCode":0}`, wantCode: ExitOK,
			want: []string{"200 OK", `{"ErrorCode":0}`}, dontWant: []string{"X-Callback-Fallback"}},
		{name: "non-200 exits 1", status: http.StatusUnauthorized, body: `{"error":"bad_signature"}`, wantCode: ExitError,
			want: []string{"401 Unauthorized", `{"error":"bad_signature"}`}},
		{name: "5xx exits 1", status: http.StatusServiceUnavailable, body: `{}`, wantCode: ExitError,
			want: []string{"503 Service Unavailable"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := startFakeRouter(t, tt.status, tt.header, tt.body)
			code, stdout, stderr := run(t, "send", "-token", "tok", "-url", f.URL+"/", giftFile)
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code: got %d, want %d (stderr %q)", got, want, stderr)
			}
			testutil.CheckText(t, "send's output", stdout, tt.want, tt.dontWant)
			sign := f.only(t).Query.Get("Sign")
			if sign == "" || strings.Contains(stdout+stderr, sign) {
				t.Errorf("Sign %q: want it sent and never printed:\n%s", sign, stdout)
			}
			if !strings.Contains(stdout, "Sign=…") {
				t.Errorf("output does not show the Sign as redacted:\n%s", stdout)
			}
		})
	}
}

func TestSendCommandName(t *testing.T) {
	isolate(t)
	const command = "Live.CallbackBeforeSendGift"
	giftBytes, err := os.ReadFile(giftFile)
	if err != nil {
		t.Fatal(err)
	}

	// Run from the repository root, a command name finds examples/callbacks/<COMMAND>.json.
	// The lookup is relative to the working directory, so tests (which run in cli/) move up.
	t.Run("from the repository root", func(t *testing.T) {
		t.Chdir("..")
		f := startFakeRouter(t, http.StatusOK, nil, `{"ErrorCode":0}`)
		if code, _, stderr := run(t, "send", "-url", f.URL+"/", command); code != ExitOK {
			t.Fatalf("exit code: got %d, want %d (stderr %q)", code, ExitOK, stderr)
		}
		req := f.only(t)
		if !bytes.Equal(req.Body, giftBytes) {
			t.Errorf("body: got %q, want examples/callbacks/%s.json", req.Body, command)
		}
		if got, want := req.Query.Get("CallbackCommand"), command; got != want {
			t.Errorf("CallbackCommand: got %q, want %q", got, want)
		}
	})

	// Elsewhere, or for a command without a sample, the body carries only the command.
	for _, cmd := range []string{command, "Brand.CallbackNothingLikeIt"} {
		t.Run("minimal body for "+cmd, func(t *testing.T) {
			f := startFakeRouter(t, http.StatusOK, nil, `{"ErrorCode":0}`)
			if code, _, stderr := run(t, "send", "-url", f.URL+"/", cmd); code != ExitOK {
				t.Fatalf("exit code: got %d, want %d (stderr %q)", code, ExitOK, stderr)
			}
			req := f.only(t)
			if got, want := string(req.Body), `{"CallbackCommand":"`+cmd+`"}`; got != want {
				t.Errorf("body: got %s, want %s", got, want)
			}
			if got, want := req.Query.Get("CallbackCommand"), cmd; got != want {
				t.Errorf("CallbackCommand: got %q, want %q", got, want)
			}
		})
	}
}

func TestSendFailures(t *testing.T) {
	isolate(t)
	noCommand := filepath.Join(t.TempDir(), "body.json")
	if err := os.WriteFile(noCommand, []byte(`{"RoomId":"r"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	// A port that was just bound and released refuses connections.
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	tests := []struct {
		name string
		args []string
		want string
	}{
		{name: "body without CallbackCommand", args: []string{"-url", "http://127.0.0.1:1/", noCommand}, want: "no CallbackCommand"},
		{name: "URL that is not http", args: []string{"-url", "ftp://127.0.0.1/", giftFile}, want: "not an http(s) URL"},
		{name: "router not listening", args: []string{"-url", closed.URL + "/", giftFile}, want: "send:"},
		{name: "invalid config", args: []string{"-config", testutil.WriteFile(t, "config.yaml", badConfig), "-url", "http://127.0.0.1:1/", giftFile}, want: "routes[0].upstream"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			runFails(t, ExitError, tt.want, append([]string{"send"}, tt.args...)...)
		})
	}
}

// TestSendFailureShowsNoSign: when the router cannot be reached, send's error names the URL
// it tried; net/http's text quotes that URL whole, and its query carries the Sign (good for
// any body within the clock skew) and the -url's userinfo. The error shows neither.
func TestSendFailureShowsNoSign(t *testing.T) {
	isolate(t)
	addr := upstreamtest.DeadAddr(t) // the connection is refused
	for _, tc := range []struct{ name, url, timeout string }{
		{"connection refused", "http://user:PASSWORD@" + addr + "/", "5s"},
		{"timeout", "http://user:PASSWORD@" + addr + "/", "1ns"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			start := time.Now()
			code, stdout, stderr := run(t, "send", "-token", "tok", "-timeout", tc.timeout, "-url", tc.url, giftFile)
			if code != ExitError || !strings.Contains(stderr, "send:") {
				t.Fatalf("exit code %d, stderr %q: want %d and the error", code, stderr, ExitError)
			}
			// The Sign is sha256(token + RequestTime): one of the seconds the call spanned.
			for s := start.Unix() - 1; s <= time.Now().Unix()+1; s++ {
				if sign := tencent.Sign("tok", strconv.FormatInt(s, 10)); strings.Contains(stdout+stderr, sign) {
					t.Errorf("output shows the Sign:\n%s%s", stdout, stderr)
				}
			}
			if strings.Contains(stdout+stderr, "PASSWORD") {
				t.Errorf("output shows the URL's password:\n%s%s", stdout, stderr)
			}
			if !strings.Contains(stderr, "Sign=…") {
				t.Errorf("error does not name the URL with its Sign masked: %q", stderr)
			}
		})
	}
}

const trtcFile = "../examples/callbacks/TRTC.1.103.json"

// TestSendTRTC: send -trtc posts a TRTC event as TRTC does: the file's bytes, no query, the
// app in SdkAppId and the body's HMAC in Sign, made with the app's trtc_key (or -key). The
// Sign is never printed.
func TestSendTRTC(t *testing.T) {
	isolate(t)
	apps := testutil.WriteFile(t, "config.yaml", `
server: {trtc_path: /trtc}
tencent:
  apps:
    - {sdk_app_id: 1400000011, name: prod, tokens: ["prod-token"], trtc_key: ProdKey1}
    - {sdk_app_id: 1400000012, name: staging, trtc_key: StagingKey2}
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}}
routes: [{commands: ["*"]}]
`)
	open := testutil.WriteFile(t, "config.yaml", "tencent: {sdk_app_ids: [1400000001]}\nupstreams: {rooms: {url: \"http://127.0.0.1:9001/trtc\"}}\nroutes: [{commands: [\"*\"]}]\n")
	tests := []struct {
		name      string
		args      []string // before the file
		arg       string   // the file, or a sample's name
		sample    string   // the file whose bytes must be sent, from the repository's root
		wantKey   string   // "" means unsigned
		wantAppID string
		wantCmd   string
	}{
		{name: "unsigned", arg: trtcFile, sample: "examples/callbacks/TRTC.1.103.json", wantAppID: "1400000001", wantCmd: "TRTC.1.103"},
		{name: "-key", args: []string{"-key", "FlagKey9"}, arg: trtcFile, sample: "examples/callbacks/TRTC.1.103.json",
			wantKey: "FlagKey9", wantAppID: "1400000001", wantCmd: "TRTC.1.103"},
		{name: "the first app's key from the config", args: []string{"-config", apps}, arg: trtcFile, sample: "examples/callbacks/TRTC.1.103.json",
			wantKey: "ProdKey1", wantAppID: "1400000011", wantCmd: "TRTC.1.103"},
		{name: "-sdkappid picks the app's own key", args: []string{"-config", apps, "-sdkappid", "1400000012"}, arg: trtcFile,
			sample: "examples/callbacks/TRTC.1.103.json", wantKey: "StagingKey2", wantAppID: "1400000012", wantCmd: "TRTC.1.103"},
		{name: "a sample by its name", args: []string{"-config", open}, arg: "TRTC.3.311", sample: "examples/callbacks/TRTC.3.311.json", wantAppID: "1400000001", wantCmd: "TRTC.3.311"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			want, err := os.ReadFile(filepath.Join("..", tt.sample))
			if err != nil {
				t.Fatal(err)
			}
			f := startFakeRouter(t, http.StatusOK, nil, `{"code":0}`)
			if !strings.HasPrefix(tt.arg, "../") {
				t.Chdir("..") // a sample is found by name under examples/callbacks
			}
			args := append(append([]string{"send", "-trtc"}, tt.args...), "-url", f.URL+"/trtc", tt.arg)
			code, stdout, stderr := run(t, args...)
			if code != ExitOK {
				t.Fatalf("exit code %d, want %d (stderr %q)", code, ExitOK, stderr)
			}
			req := f.only(t)
			if !bytes.Equal(req.Body, want) {
				t.Errorf("body %q, want the file's bytes %q", req.Body, want)
			}
			if len(req.Query) != 0 || req.Path != "/trtc" {
				t.Errorf("posted to %s?%s, want /trtc with no query", req.Path, req.Query.Encode())
			}
			if got := req.Header.Get("SdkAppId"); got != tt.wantAppID {
				t.Errorf("SdkAppId %q, want %q", got, tt.wantAppID)
			}
			wantSign := ""
			if tt.wantKey != "" {
				wantSign = tencent.SignTRTC(tt.wantKey, want)
			}
			if got := req.Header.Get("Sign"); got != wantSign {
				t.Errorf("Sign %q, want %q", got, wantSign)
			}
			if wantSign != "" && strings.Contains(stdout+stderr, wantSign) {
				t.Errorf("the Sign was printed:\n%s", stdout)
			}
			if !strings.Contains(stdout, tt.wantCmd) || !strings.Contains(stdout, `{"code":0}`) {
				t.Errorf("output does not name %s and show the answer:\n%s", tt.wantCmd, stdout)
			}
		})
	}

	t.Run("a body that is not a TRTC event", func(t *testing.T) {
		f := startFakeRouter(t, http.StatusOK, nil, `{"code":0}`)
		code, _, stderr := run(t, "send", "-trtc", "-url", f.URL+"/", giftFile)
		if code != ExitError || !strings.Contains(stderr, "not a TRTC event") {
			t.Errorf("exit %d, stderr %q; want an error saying it is not a TRTC event", code, stderr)
		}
	})
	t.Run("a name without a sample is a minimal event", func(t *testing.T) {
		f := startFakeRouter(t, http.StatusOK, nil, `{"code":0}`)
		if code, _, stderr := run(t, "send", "-trtc", "-url", f.URL+"/", "TRTC.2.206"); code != ExitOK {
			t.Fatalf("exit %d (stderr %q)", code, stderr)
		}
		if ev, err := tencent.ParseTRTCEvent(f.only(t).Body); err != nil || ev.Command() != "TRTC.2.206" {
			t.Errorf("sent %q: %v, want a TRTC.2.206 event", f.only(t).Body, err)
		}
	})
	t.Run("the config's trtc_path", func(t *testing.T) {
		cfg, err := config.LoadFile(apps)
		if err != nil {
			t.Fatal(err)
		}
		if u, err := routerURL("", cfg, true); err != nil || u.String() != "http://127.0.0.1:8080/trtc" {
			t.Errorf("routerURL = %v, %v; want http://127.0.0.1:8080/trtc", u, err)
		}
	})
}
