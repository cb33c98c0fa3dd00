package e2e

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// startBinary runs `serve` on config text with extra environment variables; see startServe.
func startBinary(t *testing.T, configText string, env ...string) (*syncBuffer, *error, <-chan struct{}, *os.Process) {
	t.Helper()
	return startServe(t, writeFile(t, "config.yaml", configText), nil, env)
}

// TestAdminTokenFromEnvironment sets the admin token the way the README says, from
// CALLBACK_ROUTER_SERVER_ADMIN_TOKEN: /routes needs it, /healthz does not, and it is
// nowhere in the logs.
func TestAdminTokenFromEnvironment(t *testing.T) {
	const token = "admin-token-from-env-7d1f"
	addr, admin := freeAddr(t), freeAddr(t)
	logs, _, exited, _ := startBinary(t, opsConfig(addr, admin, "1500ms"), "CALLBACK_ROUTER_SERVER_ADMIN_TOKEN="+token)
	waitAccepting(t, addr, exited, logs)
	waitFor(t, "/healthz without a token", logs, func() bool { s, _ := adminGet(t, admin, "/healthz"); return s == 200 })
	if s, _ := adminGet(t, admin, "/routes"); s != http.StatusUnauthorized {
		t.Errorf("/routes without the token: %d, want 401", s)
	}
	req, _ := http.NewRequest(http.MethodGet, "http://"+admin+"/routes", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("/routes with the token: %d, want 200", resp.StatusCode)
	}
	time.Sleep(200 * time.Millisecond) // log lines reach stdout in blocks at most 100 ms old
	if strings.Contains(logs.String(), token) {
		t.Errorf("the admin token appears in the logs:\n%s", logs)
	}
}

// TestSIGTERMUnderLoadLosesNothing runs the binary under steady keep-alive load (8 senders) and sends
// SIGTERM: every callback sent is answered whole, the process exits 0, and senders are then
// refused at the dial (the port is closed) rather than cut mid-callback.
func TestSIGTERMUnderLoadLosesNothing(t *testing.T) {
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		time.Sleep(5 * time.Millisecond)
		io.WriteString(w, slowAnswer)
	}))
	defer upstream.Close()
	addr, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`
server: {listen: %q, admin_listen: %q, shutdown_timeout: 10s, drain_grace: 2s}
tencent: {sdk_app_ids: [1400000001]}
upstreams:
  gifts: {url: %q}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
`, addr, admin, upstream.URL)
	logs, waitErr, exited, proc := startBinary(t, cfg)
	waitAccepting(t, addr, exited, logs)

	url := "http://" + addr + "/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift"
	var answered, cut, refused, backlog atomic.Int64
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for {
				// No GetBody: net/http must not resend a cut callback and hide the cut.
				var reused bool
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
				req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(giftBody)))
				resp, err := client.Do(req.WithContext(httptrace.WithClientTrace(req.Context(), trace)))
				var op *net.OpError
				switch {
				case errors.Is(err, syscall.ECONNREFUSED):
					refused.Add(1)
					return
				case err != nil && (errors.As(err, &op) && op.Op == "dial" || !reused):
					backlog.Add(1) // a new connection caught in the listen queue as the port closed: never accepted
					return
				case err != nil:
					cut.Add(1)
					continue
				}
				b, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != 200 || !json.Valid(b) { // the answer or, on a loaded machine, the fallback
					cut.Add(1)
					continue
				}
				answered.Add(1)
				time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
			}
		}()
	}
	time.Sleep(time.Second)
	before := answered.Load()
	if err := proc.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	wg.Wait()
	select {
	case <-exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("router did not exit after SIGTERM; output:\n%s", logs)
	}
	t.Logf("answered %d (%d before SIGTERM), cut %d, refused at the dial after the drain %d, reset in the listen backlog as the port closed %d",
		answered.Load(), before, cut.Load(), refused.Load(), backlog.Load())
	if before == 0 {
		t.Fatalf("no callback answered before SIGTERM; output:\n%s", logs)
	}
	if cut.Load() != 0 {
		t.Errorf("%d callbacks sent and not answered whole, want 0", cut.Load())
	}
	if *waitErr != nil {
		t.Errorf("exit: %v, want 0", *waitErr)
	}
}

// TestBinaryDropsShadowedQueryParams: the upstream URL sets api_key itself; a callback whose
// query also carries api_key reaches the upstream with the URL's value only, the drop is
// logged at debug by name (never the value) and counted per upstream in /metrics.
func TestBinaryDropsShadowedQueryParams(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	addr, admin := freeAddr(t), freeAddr(t)
	cfg := fmt.Sprintf(`
server: {listen: %q, admin_listen: %q}
log: {level: debug}
tencent: {sdk_app_ids: [1400000001]}
upstreams:
  moderation: {url: %q}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: moderation
`, addr, admin, up.URL+"/moderation?api_key=UPSTREAM-KEY")
	logs, _, exited, _ := startBinary(t, cfg)
	waitAccepting(t, addr, exited, logs)

	resp, err := http.Post("http://"+addr+"/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&api_key=ATTACKER-VALUE",
		"application/json", strings.NewReader(giftBody))
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("X-Callback-Fallback") != "" {
		t.Fatalf("callback: %d, fallback %q; want the upstream's 200", resp.StatusCode, resp.Header.Get("X-Callback-Fallback"))
	}
	reqs := up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(reqs))
	}
	if got, want := reqs[0].RawQuery, "api_key=UPSTREAM-KEY&SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift"; got != want {
		t.Errorf("upstream got query %q, want %q", got, want)
	}
	waitFor(t, "the drop to be counted", logs, func() bool {
		_, body := adminGet(t, admin, "/metrics")
		return strings.Contains(body, `callback_router_upstream_query_params_dropped_total{upstream="moderation"} 1`+"\n")
	})
	// Log lines reach stdout in blocks at most 100 ms old.
	waitFor(t, "the debug line naming the dropped parameter", logs, func() bool {
		return strings.Contains(logs.String(), `"param":"api_key"`)
	})
	for _, secret := range []string{"ATTACKER-VALUE", "UPSTREAM-KEY"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the logs contain %q:\n%s", secret, logs)
		}
	}
}

// TestBinaryAdminAnswersOnlyKnownHosts: without server.admin_token the binary's admin
// listener refuses a Host that is not an address, localhost or in server.admin_hosts, as a
// page on a rebound name would send.
func TestBinaryAdminAnswersOnlyKnownHosts(t *testing.T) {
	addr, admin := freeAddr(t), freeAddr(t)
	cfg := strings.Replace(opsConfig(addr, admin, "1500ms"), "shutdown_timeout: 5s}", "shutdown_timeout: 5s, admin_hosts: [router-admin.internal]}", 1)
	logs, _, exited, _ := startBinary(t, cfg)
	waitAccepting(t, addr, exited, logs)
	waitFor(t, "/healthz", logs, func() bool { s, _ := adminGet(t, admin, "/healthz"); return s == 200 })
	for _, tt := range []struct {
		host string
		want int
	}{
		{"attacker.example", 403},
		{admin, 200},
		{"localhost", 200},
		{"router-admin.internal:9090", 200},
	} {
		req, _ := http.NewRequest(http.MethodGet, "http://"+admin+"/routes", nil)
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
