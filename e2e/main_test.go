package e2e

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/tencent"
)

// binary is the callback-router binary built once for every test of the package.
var binary string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "callback-router-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary = filepath.Join(dir, "callback-router")
	if err := testutil.Build(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// run runs the binary with args to its end, bounded by 30 s, in the module's root (paths
// in args are relative to it), and returns its combined output and exit code.
func run(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	out, err := testutil.Command(ctx, binary, args...).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	return string(out), 0
}

// app is the SdkAppid the tests' configs serve, unsigned unless a test sets a token.
const app = "1400000001"

// newConfig is a config on free loopback addresses, the admin listener on; see configAt.
func newConfig(t *testing.T) *testutil.Config {
	return configAt(testutil.FreeAddr(t), testutil.FreeAddr(t))
}

// configAt is a config serving app on the given addresses, without upstreams or routes.
func configAt(listen, admin string) *testutil.Config {
	return testutil.NewConfig(listen, admin).SetYAML("tencent.sdk_app_ids", "["+app+"]")
}

// Config pieces several tests share.
const (
	giftCommand = "Live.CallbackBeforeSendGift"
	giftDeny    = `{action: deny, error_code: 102101, error_info: "gift service unavailable"}`
	catchAll    = `{commands: ["*"]}`
	// breakerStaysClosed keeps a breaker closed through the failures a test makes on purpose.
	breakerStaysClosed = `{consecutive_failures: 1000, open_for: 1s, half_open_requests: 1}`
	// fastBackoff retries background deliveries quickly.
	fastBackoff = `{initial: 20ms, max: 200ms}`
	// journaledGifts answers a gift the gifts upstream fails with a deny from config and
	// journals the verdict.
	journaledGifts = `{commands: [Live.CallbackBeforeSendGift], upstream: gifts, retries: 0, journal: true, fallback: ` + giftDeny + `}`
)

// router is the binary serving a config until the test ends.
type router struct {
	*testutil.Process
	addr, admin string // the callback and admin listeners ("" when off)
	config      string // the config file
}

// start writes cfg to a file and runs `serve` on it; see startFile.
func start(t *testing.T, cfg *testutil.Config, env ...string) *router {
	t.Helper()
	return startFile(t, cfg.Write(t), cfg, env...)
}

// startFile runs `serve -config file` (cfg is what the file holds) with extra environment
// variables, in a directory of its own, and returns once the callback listener accepts
// connections. The default delivery.dir, ./data, is then never the repository's nor another
// run's, which bbolt would lock.
func startFile(t *testing.T, file string, cfg *testutil.Config, env ...string) *router {
	t.Helper()
	cmd := testutil.Command(context.Background(), binary, "serve", "-config", file)
	cmd.Dir = t.TempDir()
	cmd.Env = append(cmd.Env, env...)
	r := &router{Process: testutil.Start(t, cmd), addr: cfg.Listen(), admin: cfg.Admin(), config: file}
	r.WaitAccepting(t, r.addr)
	return r
}

// answer is what the router answered a callback.
type answer struct {
	status  int
	body    string
	header  http.Header
	elapsed time.Duration
}

func (a answer) fallback() string  { return a.header.Get("X-Callback-Fallback") }
func (a answer) requestID() string { return a.header.Get("X-Request-Id") }

var client = &http.Client{Timeout: 10 * time.Second}

// post sends body to target (a path and query) with extra headers, and fails the test if
// no answer comes.
func (r *router) post(t *testing.T, target, body string, header http.Header) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, "http://"+r.addr+target, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range header {
		req.Header[k] = v
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("POST %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, body: string(b), header: resp.Header, elapsed: time.Since(start)}
}

// callback posts a callback of app, unsigned, as Tencent sends it.
func (r *router) callback(t *testing.T, command, body string) answer {
	t.Helper()
	return r.post(t, unsigned(command), body, nil)
}

// unsigned is the path and query Tencent sends command with, for an app without a token.
func unsigned(command string) string {
	return "/?SdkAppid=" + app + "&CallbackCommand=" + command + "&contenttype=json"
}

// signed is the path and query Tencent sends command of app with, signed with token now;
// Tencent puts RequestTime last, signFirst puts Sign last.
func signed(app, token, command string, signFirst bool) string {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	q := "/?SdkAppid=" + app + "&CallbackCommand=" + command + "&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI"
	if signFirst {
		return q + "&Sign=" + tencent.Sign(token, now) + "&RequestTime=" + now
	}
	return q + "&RequestTime=" + now + "&Sign=" + tencent.Sign(token, now)
}

// adminGet returns the status and body of an admin path, with the admin token when one is
// given; a failed request is status 0 with the error as its body.
func (r *router) adminGet(path string, token ...string) (int, string) {
	req, err := http.NewRequest(http.MethodGet, "http://"+r.admin+path, nil)
	if err != nil {
		return 0, err.Error()
	}
	for _, tok := range token {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	resp, err := client.Do(req)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitReady waits for /readyz to answer 200.
func (r *router) waitReady(t *testing.T) {
	t.Helper()
	testutil.Eventually(t, "/readyz 200", func() bool { s, _ := r.adminGet("/readyz"); return s == http.StatusOK })
}

// metric returns the value of one series of /metrics, -1 when it is absent.
func (r *router) metric(t *testing.T, series string) float64 {
	t.Helper()
	_, body := r.adminGet("/metrics")
	for line := range strings.SplitSeq(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// waitLogged waits for s in the router's output: log lines reach stdout in blocks at most
// 100 ms old.
func (r *router) waitLogged(t *testing.T, s string) {
	t.Helper()
	testutil.Eventually(t, "the log to show "+s, func() bool { return r.Output.Contains(s) })
}

const (
	slowAnswer = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"slow ok"}`
	giftBody   = `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000}}`
)
