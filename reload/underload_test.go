package reload_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

const (
	underLoadReloads = 50
	underLoadWorkers = 6
	// underLoadPause spaces each sender's callbacks: traffic flows the whole time without
	// saturating the two shared cores that other packages' timing tests run on meanwhile.
	underLoadPause = 3 * time.Millisecond
	giftsAnswer    = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"from gifts"}`
	allowEnvelope  = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
	denyEnvelopeB  = `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"config B"}`
)

// loadConfig is config A or B: they differ in the gift route's deadline and in the verdict
// of the catch-all route, which answers from config, so every answer says which config
// served it. The gifts upstream is the same in both, so its breaker must survive.
func loadConfig(b bool, upstreamURL string) string {
	deadline, fallback := "1500ms", "{action: allow}"
	if b {
		deadline, fallback = "1200ms", `{action: deny, error_code: 1, error_info: "config B"}`
	}
	return testutil.NewConfig("127.0.0.1:0", "").SetYAML("tencent.sdk_app_ids", "[1400000001]").
		SetYAML("defaults.breaker", "{consecutive_failures: 5, open_for: 10s, half_open_requests: 1}").
		Upstream("gifts", upstreamURL).
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: ` + deadline + `,
			fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}}`).
		Route(`{commands: ["*"], fallback: ` + fallback + `}`).String()
}

// loadCounts is what the callback senders saw.
type loadCounts struct {
	sent, answered, errors atomic.Int64
	servedA, servedB       atomic.Int64 // catch-all answers by the config that gave them
	firstError             atomic.Pointer[string]
}

func (c *loadCounts) fail(format string, args ...any) {
	c.errors.Add(1)
	msg := fmt.Sprintf(format, args...)
	c.firstError.CompareAndSwap(nil, &msg)
}

// TestFiftyReloadsUnderLoad reloads the config 50 times, through the file watcher alone
// (in-place writes, atomic renames and delete-and-recreate in turn, no SIGHUP), while
// several goroutines send callbacks to a real router in front of a real loopback upstream
// the whole time. Every callback must get 200 with the body its route and config call for,
// none may be lost, and the upstream (so its breaker) must be the same object throughout.
func TestFiftyReloadsUnderLoad(t *testing.T) {
	if testing.Short() {
		t.Skip("reload-under-load test skipped in -short mode")
	}
	up := upstreamtest.Start(t, upstreamtest.Slow(2*time.Millisecond, upstreamtest.Answer(http.StatusOK, giftsAnswer)))
	file := testutil.WriteFile(t, "config.yaml", loadConfig(false, up.URL+"/gifts"))

	m := metrics.New()
	cfg, err := config.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	first := routertest.Compile(t, cfg, router.Options{OnBreakerChange: m.BreakerChanged})
	srv := server.New(first, deliverytest.Open(t, cfg.Delivery, zerolog.Nop()), zerolog.Nop(), server.WithObserver(m))
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ctx) }()
	defer func() {
		cancel()
		if err := <-served; err != nil {
			t.Errorf("router stopped with %v", err)
		}
	}()

	gifts := first.Upstreams["gifts"]
	var replacedBreakers atomic.Int64
	rl := reload.New(reload.Options{
		File: file, Target: srv, Compile: router.Options{OnBreakerChange: m.BreakerChanged},
		Debounce: 100 * time.Millisecond, Logger: zerolog.Nop(), OnResult: m.Reloaded,
		OnInstall: func(t *router.Table) {
			if t.Upstreams["gifts"] != gifts {
				replacedBreakers.Add(1)
			}
		},
	})
	rctx, rcancel := context.WithCancel(context.Background())
	reloaderDone := rl.Start(rctx)
	defer func() { rcancel(); <-reloaderDone }()

	// Callbacks flow from several goroutines for the whole test.
	base := "http://" + srv.Addr().String() + "/?SdkAppid=1400000001&contenttype=json&CallbackCommand="
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: underLoadWorkers}}
	var counts loadCounts
	stop := make(chan struct{})
	var senders sync.WaitGroup
	for w := range underLoadWorkers {
		senders.Add(1)
		go func() {
			defer senders.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(underLoadPause):
				}
				sendOne(client, base, (w+i)%2 == 0, &counts)
			}
		}()
	}

	start := time.Now()
	writes := []func(*testing.T, string, string){writeInPlace, writeRename, deleteRecreate}
	for i := range underLoadReloads {
		writes[i%len(writes)](t, file, loadConfig(i%2 == 0, up.URL+"/gifts"))
		testutil.Eventually(t, fmt.Sprintf("reload %d", i+1), func() bool { return rl.Status().Reloads == i+1 })
		time.Sleep(20 * time.Millisecond) // callbacks flow on each config
	}
	elapsed := time.Since(start)
	close(stop)
	senders.Wait()

	st := rl.Status()
	t.Logf("reload under load: %d reloads in %s; %d callbacks sent by %d goroutines, %d answered, %d errors; catch-all served by config A %d times, by config B %d times; %d upstream hits",
		st.Reloads, elapsed.Round(time.Millisecond), counts.sent.Load(), underLoadWorkers, counts.answered.Load(),
		counts.errors.Load(), counts.servedA.Load(), counts.servedB.Load(), up.Hits())
	if got, want := st.Reloads, underLoadReloads; got != want {
		t.Errorf("reloads installed: got %d, want %d", got, want)
	}
	if got, want := st.Failures, 0; got != want {
		t.Errorf("reloads refused: got %d, want %d (last error %q)", got, want, st.LastError)
	}
	if got := counts.errors.Load(); got != 0 {
		t.Errorf("callbacks with an error or unexpected answer: got %d, want 0; first: %s", got, *counts.firstError.Load())
	}
	if got, want := counts.answered.Load(), counts.sent.Load(); got != want {
		t.Errorf("callbacks answered: got %d, want every one sent (%d)", got, want)
	}
	if got := counts.sent.Load(); got < underLoadReloads {
		t.Errorf("callbacks sent: got %d, want at least one per reload", got)
	}
	if counts.servedA.Load() == 0 || counts.servedB.Load() == 0 {
		t.Errorf("catch-all answers: A %d, B %d; want both configs to have served", counts.servedA.Load(), counts.servedB.Load())
	}
	if got := replacedBreakers.Load(); got != 0 {
		t.Errorf("reloads that rebuilt the unchanged gifts upstream (and its breaker): got %d, want 0", got)
	}
	if got, want := counterSum(t, m, "callback_router_callbacks_total"), float64(counts.sent.Load()); got != want {
		t.Errorf("callbacks the router counted: got %v, want %v", got, want)
	}
	if got, want := counterSum(t, m, "callback_router_config_reloads_total"), float64(underLoadReloads); got != want {
		t.Errorf("callback_router_config_reloads_total: got %v, want %v", got, want)
	}
}

// sendOne posts one callback and checks its answer: the gift route must get the upstream's
// answer, the catch-all the verdict of config A or B.
func sendOne(client *http.Client, base string, gift bool, c *loadCounts) {
	command, body := "Group.CallbackAfterSendMsg", `{"CallbackCommand":"Group.CallbackAfterSendMsg"}`
	if gift {
		command, body = "Live.CallbackBeforeSendGift", `{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"Coins":1}}`
	}
	c.sent.Add(1)
	resp, err := client.Post(base+command, "application/json", strings.NewReader(body))
	if err != nil {
		c.fail("%s: %v", command, err)
		return
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		c.fail("%s: reading the answer: %v", command, err)
		return
	}
	c.answered.Add(1)
	got := string(b)
	switch {
	case resp.StatusCode != http.StatusOK:
		c.fail("%s: status %d, want 200 (%s)", command, resp.StatusCode, got)
	case gift && (got != giftsAnswer || resp.Header.Get("X-Callback-Fallback") != ""):
		c.fail("%s: got %s (fallback %q), want the upstream's answer", command, got, resp.Header.Get("X-Callback-Fallback"))
	case gift:
	case got == allowEnvelope:
		c.servedA.Add(1)
	case got == denyEnvelopeB:
		c.servedB.Add(1)
	default:
		c.fail("%s: got %s, want config A's or B's verdict", command, got)
	}
}

// counterSum adds up every series of a counter family.
func counterSum(t *testing.T, m *metrics.Metrics, name string) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	if err != nil {
		t.Fatal(err)
	}
	var sum float64
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
		for _, metric := range f.GetMetric() {
			sum += metric.GetCounter().GetValue()
		}
	}
	return sum
}
