package browsertest

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/cli"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// updateScreenshot names the environment variable that makes the test write its screenshot
// to docs/status-page.png, the one the README shows.
const updateScreenshot = "CALLBACK_ROUTER_UPDATE_SCREENSHOT"

// browserResult is what status.mjs reports.
type browserResult struct {
	Status          int      `json:"status"`
	Title           string   `json:"title"`
	BreakerOpen     bool     `json:"breakerOpen"`
	FallbackRows    int      `json:"fallbackRows"`
	FallbackReasons []string `json:"fallbackReasons"`
	GiftsReasons    []string `json:"giftsReasons"`
	FallbackApps    []string `json:"fallbackApps"`
	RouteApps       []string `json:"routeApps"` // "route: apps" per row
	Transitions     []string `json:"transitions"`
	OpenTile        string   `json:"openTile"`
	QueueBackend    string   `json:"queueBackend"`
	DeadTile        string   `json:"deadTile"`
	ShadowAgreement string   `json:"shadowAgreement"`
	ShadowResults   []string `json:"shadowResults"`
	ShadowIDs       []string `json:"shadowIds"`
	ShadowSub       string   `json:"shadowSub"`
	Polls           int      `json:"polls"`
	ConsoleErrors   []string `json:"consoleErrors"`
	PageErrors      []string `json:"pageErrors"`
	FailedRequests  []string `json:"failedRequests"`
	Error           string   `json:"error"`
}

// requireBrowser skips the test, saying what is missing, unless chromium, node and
// playwright-core are installed.
func requireBrowser(t *testing.T) (node, chromium string) {
	t.Helper()
	chromium = os.Getenv("CHROMIUM_PATH")
	if chromium == "" {
		chromium = "/usr/bin/chromium"
	}
	if _, err := os.Stat(chromium); err != nil {
		t.Skipf("browser test skipped: no chromium at %s (apt-get install chromium, or set CHROMIUM_PATH)", chromium)
	}
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("browser test skipped: node is not installed (Node 20 or later)")
	}
	if _, err := os.Stat(filepath.Join("node_modules", "playwright-core", "package.json")); err != nil {
		t.Skip("browser test skipped: playwright-core is not installed (run npm ci in admin/browsertest)")
	}
	return node, chromium
}

// TestStatusPageInBrowser runs the router as `serve` does, with three loopback upstreams
// and callbacks flowing, opens the status page in headless chromium, makes the gifts
// upstream fail, and checks that the page shows its breaker turning open and the fallbacks,
// with no console error. The screenshot is kept in docs/ when updateScreenshot is set.
func TestStatusPageInBrowser(t *testing.T) {
	node, chromium := requireBrowser(t)

	gifts := upstreamtest.Start(t, slowOK(5*time.Millisecond, 20*time.Millisecond))
	moderation := upstreamtest.Start(t, sometimesHung(25, 400*time.Millisecond))
	candidate := upstreamtest.Start(t, sometimesDenies(3))
	audit := upstreamtest.Start(t, upstreamtest.OK())
	addr, admin := testutil.FreeAddr(t), testutil.FreeAddr(t)
	cfg := pageConfig(addr, admin, gifts.URL, moderation.URL, candidate.URL, audit.URL).Set("delivery.dir", t.TempDir()).Write(t)

	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	routerCtx, stopRouter := context.WithCancel(ctx)
	var logs testutil.Buffer
	exited := make(chan int, 1)
	go func() {
		exited <- cli.Main(routerCtx, []string{"serve", "-config", cfg, "-log-level", "error"}, &logs, &logs)
	}()
	defer func() {
		stopRouter()
		if code := <-exited; code != 0 {
			t.Errorf("router exited with %d; log:\n%s", code, &logs)
		}
	}()
	waitReady(t, admin, exited, &logs)

	stopTraffic := sendTraffic("http://"+addr+"/?contenttype=json", "1400000001", "1400000002")
	defer stopTraffic()

	shot := filepath.Join(t.TempDir(), "status-page.png")
	cmd := exec.CommandContext(ctx, node, "status.mjs", "http://"+admin+"/", shot, t.TempDir())
	cmd.Env = append(os.Environ(), "CHROMIUM_PATH="+chromium)
	if os.Getenv(updateScreenshot) != "" {
		cmd.Env = append(cmd.Env, "SETTLE_MS=25000") // a screenshot with a history
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var res browserResult
	lines := bufio.NewScanner(out)
	lines.Buffer(make([]byte, 1<<20), 1<<20)
	for lines.Scan() {
		line := lines.Text()
		switch {
		case line == "closed":
			// The page shows the breaker closed: now the gifts service goes down.
			gifts.Set(upstreamtest.Answer(http.StatusServiceUnavailable, `{"error":"gift service down"}`))
		case strings.HasPrefix(line, "{"):
			if err := json.Unmarshal([]byte(line), &res); err != nil {
				t.Fatalf("status.mjs result %q: %v", line, err)
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("node status.mjs: %v\n%s", err, &stderr)
	}
	if res.Error != "" {
		t.Fatalf("in the browser: %s\nrouter log:\n%s", res.Error, &logs)
	}
	checkPage(t, res)
	if os.Getenv(updateScreenshot) != "" {
		keepScreenshot(t, shot)
	}
}

func checkPage(t *testing.T, res browserResult) {
	t.Helper()
	if got, want := res.Status, 200; got != want {
		t.Errorf("page status: got %d, want %d", got, want)
	}
	if got, want := res.Title, "callback-router status"; got != want {
		t.Errorf("title: got %q, want %q", got, want)
	}
	if !res.BreakerOpen {
		t.Errorf("the page never showed the gifts breaker open")
	}
	if got, want := strings.TrimSpace(res.OpenTile), "1"; got != want {
		t.Errorf("breakers-open tile: got %q, want %q", got, want)
	}
	// The audit route is async: the page names the durable store, and nothing was given up.
	if got, want := strings.TrimSpace(res.QueueBackend), "bbolt"; got != want {
		t.Errorf("delivery backend tile: got %q, want %q", got, want)
	}
	if got, want := strings.TrimSpace(res.DeadTile), "0"; got != want {
		t.Errorf("dead-letters tile: got %q, want %q", got, want)
	}
	if !contains(res.FallbackReasons, "breaker_open") {
		t.Errorf("last fallbacks show reasons %q, want breaker_open among them", res.FallbackReasons)
	}
	if !contains(res.GiftsReasons, "breaker_open") || !contains(res.GiftsReasons, "upstream_error") {
		t.Errorf("the gifts route shows fallback reasons %q, want upstream_error and breaker_open", res.GiftsReasons)
	}
	// Both apps' gift callbacks fall back, and the list says whose each was.
	if !contains(res.FallbackApps, "prod") || !contains(res.FallbackApps, "staging") {
		t.Errorf("last fallbacks show apps %q, want prod and staging among them", res.FallbackApps)
	}
	for _, want := range []string{"gifts: every app", "moderation: prod", "staging-moderation: staging", "catch-all: every app"} {
		if !contains(res.RouteApps, want) {
			t.Errorf("routes show apps %q, want %q among them", res.RouteApps, want)
		}
	}
	if len(res.Transitions) == 0 || !strings.Contains(strings.Join(res.Transitions, "|"), "open") {
		t.Errorf("breaker transitions %q, want one to open", res.Transitions)
	}
	// The moderation route mirrors to a candidate that denies every third message.
	t.Logf("shadow panel: %s; agreement %s; disagreements %q", strings.TrimSpace(res.ShadowSub), res.ShadowAgreement, res.ShadowResults)
	if !contains(res.ShadowResults, "verdict") {
		t.Errorf("shadow disagreements show results %q, want verdict among them", res.ShadowResults)
	}
	if len(res.ShadowIDs) == 0 || strings.TrimSpace(res.ShadowIDs[0]) == "" {
		t.Errorf("shadow disagreements show request ids %q, want them", res.ShadowIDs)
	}
	if a := strings.TrimSpace(res.ShadowAgreement); !strings.HasSuffix(a, "%") {
		t.Errorf("shadow agreement rate: got %q, want a percentage", a)
	}
	if !strings.Contains(res.ShadowSub, "moderation_v2") {
		t.Errorf("shadow panel names %q, want the candidate moderation_v2", res.ShadowSub)
	}
	if res.Polls < 3 {
		t.Errorf("the page polled %d times, want it to refresh itself", res.Polls)
	}
	for _, list := range [][]string{res.ConsoleErrors, res.PageErrors, res.FailedRequests} {
		if len(list) > 0 {
			t.Errorf("browser errors: %q", list)
		}
	}
}

// keepScreenshot copies the screenshot to docs/status-page.png.
func keepScreenshot(t *testing.T, shot string) {
	t.Helper()
	b, err := os.ReadFile(shot)
	if err != nil {
		t.Fatal(err)
	}
	dst := filepath.Join("..", "..", "docs", "status-page.png")
	if err := os.MkdirAll(filepath.Dir(dst), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", dst)
}

// pageConfig is a small production-like setup of two apps: a gift check for both that will
// fail, a moderation service for prod that now and then hangs past its deadline (staging's
// messages are allowed from config), mirrored to a candidate that denies more often, an
// async audit sink, and a catch-all.
func pageConfig(addr, admin, gifts, moderation, candidate, audit string) *testutil.Config {
	return testutil.NewConfig(addr, admin).Set("server.shutdown_timeout", "15s").
		SetYAML("tencent", "{apps: [{sdk_app_id: 1400000001, name: prod}, {sdk_app_id: 1400000002, name: staging}]}").
		SetYAML("defaults.breaker", "{consecutive_failures: 5, open_for: 2m, half_open_requests: 1}").
		Upstream("gifts", gifts+"/gifts").Upstream("moderation", moderation+"/moderation").
		Upstream("moderation_v2", candidate+"/v2").Upstream("audit", audit+"/events").
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: 1500ms,
			fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}}`).
		Route(`{name: moderation, commands: [Group.CallbackBeforeSendMsg, C2C.CallbackBeforeSendMsg], apps: [prod],
			upstream: moderation, deadline: 300ms, retries: 0, fallback: {action: allow}, shadow: {upstream: moderation_v2}}`).
		Route(`{name: staging-moderation, commands: [Group.CallbackBeforeSendMsg, C2C.CallbackBeforeSendMsg], apps: [staging],
			fallback: {action: allow}}`).
		Route(`{name: audit, commands: ["Live.CallbackAfter*", "Mic.*"], upstream: audit, async: true}`).
		Route(`{name: catch-all, commands: ["*"], fallback: {action: allow}}`)
}

// trafficCommands are sent in turn, each as Tencent would.
var trafficCommands = []string{"Live.CallbackBeforeSendGift", "Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg",
	"Live.CallbackAfterMemberStateChanged", "Mic.CallbackAfterSeatInfoChanged", "Group.CallbackBeforeSendMsg", "State.StateChange"}

// sendTraffic posts callbacks of each app in turn from a few goroutines until the returned
// stop is called.
func sendTraffic(base string, apps ...string) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 5 * time.Second}
	for w := range 3 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; ; i++ {
				select {
				case <-done:
					return
				case <-time.After(15 * time.Millisecond):
				}
				cmd := trafficCommands[i%len(trafficCommands)]
				url := base + "&SdkAppid=" + apps[i/len(trafficCommands)%len(apps)] + "&CallbackCommand=" + cmd
				resp, err := client.Post(url, "application/json", strings.NewReader(`{"CallbackCommand":"`+cmd+`"}`))
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
			}
		}()
	}
	return func() {
		close(done)
		wg.Wait()
		// A connection dialled but never used counts as busy in net/http's Shutdown for
		// up to 5 s; close them so the router's shutdown does not wait on them.
		client.CloseIdleConnections()
	}
}

// slowOK answers the allow envelope after a delay between lo and hi.
func slowOK(lo, hi time.Duration) upstreamtest.Behavior {
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		d := lo + time.Duration(n)*time.Millisecond%(hi-lo)
		upstreamtest.Slow(d, upstreamtest.OK())(w, r, n)
	}
}

// sometimesDenies answers the allow envelope, but denies every nth request.
func sometimesDenies(every int64) upstreamtest.Behavior {
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		if n%every == 0 {
			upstreamtest.Answer(http.StatusOK, `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"candidate says no"}`)(w, r, n)
			return
		}
		slowOK(5*time.Millisecond, 30*time.Millisecond)(w, r, n)
	}
}

// sometimesHung answers quickly, but every nth request only after d.
func sometimesHung(every int64, d time.Duration) upstreamtest.Behavior {
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		if n%every == 0 {
			upstreamtest.Slow(d, upstreamtest.OK())(w, r, n)
			return
		}
		slowOK(8*time.Millisecond, 60*time.Millisecond)(w, r, n)
	}
}

// waitReady waits for the router's /readyz to answer 200, and fails the test if the router
// exits first.
func waitReady(t *testing.T, admin string, exited <-chan int, logs fmt.Stringer) {
	t.Helper()
	ready := testutil.Poll(20*time.Second, func() bool {
		select {
		case code := <-exited:
			t.Fatalf("router exited with %d; log:\n%s", code, logs)
		default:
		}
		resp, err := http.Get("http://" + admin + "/readyz")
		if err != nil {
			return false
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK
	})
	if !ready {
		t.Fatalf("router not ready within 20 s; log:\n%s", logs)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if strings.TrimSpace(x) == s {
			return true
		}
	}
	return false
}
