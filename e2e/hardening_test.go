package e2e

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestSIGTERMFinishesInFlightCallback starts the real binary, sends a callback to a slow
// upstream, sends SIGTERM while the upstream is still working, and checks that the callback
// gets the upstream's answer, the process exits 0, and the port is closed afterwards.
func TestSIGTERMFinishesInFlightCallback(t *testing.T) {
	received := make(chan struct{}, 1)
	upstream := upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		select {
		case received <- struct{}{}:
		default:
		}
		time.Sleep(400 * time.Millisecond)
		upstreamtest.Answer(http.StatusOK, slowAnswer)(w, r, n)
	})
	cfg := newConfig(t).Set("server.shutdown_timeout", "10s").
		Upstream("slow", upstream.URL+"/gifts").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: slow, deadline: 1500ms, retries: 0,
			fallback: {action: deny, error_code: 102101, error_info: "fallback, not the upstream"}}`)
	r := start(t, cfg)

	type result struct {
		status   int
		body     string
		fallback string
		err      error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		resp, err := client.Post("http://"+r.addr+unsigned(giftCommand), "application/json", strings.NewReader(giftBody))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b), fallback: resp.Header.Get("X-Callback-Fallback"), err: err}
	}()

	// SIGTERM 100 ms after the callback started, and only once the upstream has it, so the
	// signal surely lands while the callback is in flight (the upstream takes 400 ms more).
	select {
	case <-received:
	case res := <-done:
		t.Fatalf("callback answered before reaching the upstream: %+v", res)
	case <-time.After(10 * time.Second):
		t.Fatalf("the upstream never received the callback")
	}
	time.Sleep(time.Until(started.Add(100 * time.Millisecond)))
	if err := r.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	select {
	case res := <-done:
		if res.err != nil {
			t.Fatalf("callback failed: %v", res.err)
		}
		if got, want := res.status, http.StatusOK; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		if got, want := res.body, slowAnswer; got != want {
			t.Errorf("body: got %s, want the upstream's %s", got, want)
		}
		if got, want := res.fallback, ""; got != want {
			t.Errorf("X-Callback-Fallback: got %q, want %q", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no answer to the in-flight callback")
	}

	if err := r.WaitExit(t, 10*time.Second); err != nil {
		t.Errorf("router exited with %v, want exit status 0", err)
	}
	c, err := net.DialTimeout("tcp", r.addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("a new connection to %s succeeded after the router exited", r.addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after exit: got %v, want connection refused", err)
	}
	testutil.CheckText(t, "the log", r.Output.String(),
		[]string{"callback-router started", "shutting down", `"decision":"upstream"`, `"message":"stopped"`}, nil)
}

// TestAdminTokenFromEnvironment sets the admin token the way the README says, from
// CALLBACK_ROUTER_SERVER_ADMIN_TOKEN: /routes needs it, /healthz does not, and it is
// nowhere in the logs.
func TestAdminTokenFromEnvironment(t *testing.T) {
	const token = "admin-token-from-env-7d1f"
	r := start(t, opsConfig(t, "1500ms"), "CALLBACK_ROUTER_SERVER_ADMIN_TOKEN="+token)
	testutil.Eventually(t, "/healthz without a token", func() bool { s, _ := r.adminGet("/healthz"); return s == 200 })
	if s, _ := r.adminGet("/routes"); s != http.StatusUnauthorized {
		t.Errorf("/routes without the token: %d, want 401", s)
	}
	if s, _ := r.adminGet("/routes", token); s != 200 {
		t.Errorf("/routes with the token: %d, want 200", s)
	}
	time.Sleep(200 * time.Millisecond) // log lines reach stdout in blocks at most 100 ms old
	if r.Output.Contains(token) {
		t.Errorf("the admin token appears in the logs")
	}
}

// TestSIGTERMUnderLoadLosesNothing runs the binary under steady keep-alive load (8 senders) and sends
// SIGTERM: every callback sent is answered whole, the process exits 0, and senders are then
// refused at the dial (the port is closed) rather than cut mid-callback.
func TestSIGTERMUnderLoadLosesNothing(t *testing.T) {
	upstream := upstreamtest.Start(t, upstreamtest.Slow(5*time.Millisecond, upstreamtest.Answer(http.StatusOK, slowAnswer)))
	r := start(t, newConfig(t).With("server: {shutdown_timeout: 10s, drain_grace: 2s}").
		Upstream("gifts", upstream.URL).Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts}`))

	url := "http://" + r.addr + unsigned(giftCommand)
	load := testutil.StartDrainLoad(8, url, giftBody)
	time.Sleep(time.Second)
	before := load.Answered.Load()
	if err := r.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	load.Wait()
	exit := r.WaitExit(t, 30*time.Second)
	t.Logf("%s; %d answered before SIGTERM", load, before)
	if before == 0 {
		t.Fatalf("no callback answered before SIGTERM")
	}
	if got := load.Cut.Load(); got != 0 {
		t.Errorf("%d callbacks sent and not answered whole, want 0; the first: %s", got, load.FirstCut())
	}
	if exit != nil {
		t.Errorf("exit: %v, want 0", exit)
	}
}

// TestBinaryDropsShadowedQueryParams: the upstream URL sets api_key itself; a callback whose
// query also carries api_key reaches the upstream with the URL's value only, the drop is
// logged at debug by name (never the value) and counted per upstream in /metrics.
func TestBinaryDropsShadowedQueryParams(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := start(t, newConfig(t).Set("log.level", "debug").
		Upstream("moderation", up.URL+"/moderation?api_key=UPSTREAM-KEY").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: moderation}`))

	a := r.post(t, "/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&api_key=ATTACKER-VALUE", giftBody, nil)
	if a.status != 200 || a.fallback() != "" {
		t.Fatalf("callback: %d, fallback %q; want the upstream's 200", a.status, a.fallback())
	}
	reqs := up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(reqs))
	}
	if got, want := reqs[0].RawQuery, "api_key=UPSTREAM-KEY&SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift"; got != want {
		t.Errorf("upstream got query %q, want %q", got, want)
	}
	const dropped = `callback_router_upstream_query_params_dropped_total{upstream="moderation"}`
	testutil.Eventually(t, "the drop to be counted", func() bool { return r.metric(t, dropped) == 1 })
	r.waitLogged(t, `"param":"api_key"`)
	for _, secret := range []string{"ATTACKER-VALUE", "UPSTREAM-KEY"} {
		if r.Output.Contains(secret) {
			t.Errorf("the logs contain %q", secret)
		}
	}
}

// TestBinaryAdminAnswersOnlyKnownHosts: without server.admin_token the binary's admin
// listener refuses a Host that is not an address, localhost or in server.admin_hosts, as a
// page on a rebound name would send.
func TestBinaryAdminAnswersOnlyKnownHosts(t *testing.T) {
	r := start(t, opsConfig(t, "1500ms").SetYAML("server.admin_hosts", "[router-admin.internal]"))
	testutil.Eventually(t, "/healthz", func() bool { s, _ := r.adminGet("/healthz"); return s == 200 })
	for _, tt := range []struct {
		host string
		want int
	}{
		{"attacker.example", 403},
		{r.admin, 200},
		{"localhost", 200},
		{"router-admin.internal:9090", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+r.admin+"/routes", nil)
		req.Host = tt.host
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tt.want {
			t.Errorf("GET /routes with Host %q: %d, want %d", tt.host, resp.StatusCode, tt.want)
		}
	}
}
