package admin_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/stats"
)

// stack is a router and its admin listener wired as `serve` wires them.
type stack struct {
	callbacks string // the callback URL with Tencent's query, less the command
	admin     string // the admin base URL
	ready     *atomic.Bool
	srv       *server.Server
}

// anyTable is a table with one route for every callback, for the tests of the admin
// handler alone.
func anyTable(t *testing.T) *router.Table {
	return routertest.Table(t, testutil.NewConfig("127.0.0.1:0", "").Upstream("a", "http://127.0.0.1:9/").
		Route(`{commands: ["*"], upstream: a}`).String(), router.Options{})
}

// startStack serves the YAML config, whose server.listen must be a loopback address
// (127.0.0.1:0), with an admin listener beside it.
func startStack(t *testing.T, yaml string) *stack {
	t.Helper()
	m, live := metrics.New(), stats.New()
	table := routertest.Table(t, yaml, router.Options{OnBreakerChange: func(u, i string, from, to gobreaker.State) {
		m.BreakerChanged(u, i, from, to)
		live.BreakerChanged(u, i, from, to)
	}})
	srv := server.New(table, deliverytest.Open(t, routertest.Parse(t, yaml).Delivery, zerolog.Nop()), zerolog.Nop(),
		server.WithObserver(server.Observers(m, live)))
	m.Install(table)
	live.Install(table)
	m.Watch(srv.Table, srv.Queue())
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	s := &stack{ready: &atomic.Bool{}, srv: srv}
	adm := admin.New(admin.Options{Table: srv.Table, Ready: s.ready.Load, Metrics: m, Live: live, Queue: srv.Queue(), Version: "test"})
	if err := adm.Listen("127.0.0.1:0"); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 2)
	go func() { done <- srv.Serve(ctx) }()
	go func() { done <- adm.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		for range 2 {
			if err := <-done; err != nil {
				t.Errorf("stopped with %v", err)
			}
		}
	})
	s.callbacks = "http://" + srv.Addr().String() + "/?SdkAppid=1400000001&contenttype=json&CallbackCommand="
	s.admin = "http://" + adm.Addr().String()
	return s
}

func get(t *testing.T, url string) (int, http.Header, string) {
	t.Helper()
	return request(t, http.MethodGet, url, nil)
}

// request sends one request with headers ("Host" sets the request's host; an empty value
// is left out) and returns the status, the header and the body.
func request(t *testing.T, method, url string, headers map[string]string) (int, http.Header, string) {
	t.Helper()
	req, err := http.NewRequest(method, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		switch {
		case v == "":
		case k == "Host":
			req.Host = v
		default:
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header, string(b)
}

func (s *stack) post(t *testing.T, command string) string {
	t.Helper()
	resp, err := http.Post(s.callbacks+command, "application/json", strings.NewReader(`{"CallbackCommand":"`+command+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.Header.Get("X-Callback-Fallback")
}

// failingConfig routes gifts to url with a breaker that opens after 2 failures; callbacks
// are not signed.
func failingConfig(url string) *testutil.Config {
	return testutil.NewConfig("127.0.0.1:0", "").SetYAML("tencent.sdk_app_ids", "[1400000001]").Set("tencent.auth_token", "").SetYAML("tencent.auth_tokens", "[]").
		With(`defaults: {retries: 0, breaker: {consecutive_failures: 2, open_for: 1m, half_open_requests: 1}}`).
		Upstream("gifts", url).
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: 1500ms,
			fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}}`).
		Route(`{commands: ["*"]}`)
}

func TestHealthAndReadiness(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	s := startStack(t, failingConfig(up.URL).String())
	tests := []struct {
		name  string
		path  string
		ready bool
		want  int
	}{
		{name: "alive before ready", path: "/healthz", ready: false, want: 200},
		{name: "not ready before the listener serves", path: "/readyz", ready: false, want: 503},
		{name: "ready", path: "/readyz", ready: true, want: 200},
		{name: "alive when ready", path: "/healthz", ready: true, want: 200},
		{name: "unknown path", path: "/nope", ready: true, want: 404},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ready.Store(tt.ready)
			if got, _, body := get(t, s.admin+tt.path); got != tt.want {
				t.Errorf("GET %s: got %d (%s), want %d", tt.path, got, body, tt.want)
			}
		})
	}
}

func TestRoutesShowsTheTableWithoutSecrets(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	s := startStack(t, failingConfig(up.URL+"/gifts?key=upstream-secret").Set("tencent.auth_token", "token-secret").String())
	status, hdr, body := get(t, s.admin+"/routes")
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /routes: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, secret := range []string{"token-secret", "upstream-secret"} {
		if strings.Contains(body, secret) {
			t.Errorf("/routes shows %q:\n%s", secret, body)
		}
	}
	var v struct {
		Routes []struct {
			Name       string   `json:"name"`
			Upstreams  []string `json:"upstreams"`
			DeadlineMs int64    `json:"deadline_ms"`
			Fallback   struct {
				Action    string `json:"action"`
				ErrorCode int64  `json:"error_code"`
			} `json:"fallback"`
		} `json:"routes"`
		Upstreams []struct {
			Name      string `json:"name"`
			Instances []struct {
				URL     string `json:"url"`
				Breaker string `json:"breaker"`
			} `json:"instances"`
		} `json:"upstreams"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/routes is not JSON: %v", err)
	}
	r := v.Routes[0]
	if r.Name != "gifts" || r.DeadlineMs != 1500 || r.Fallback.Action != "deny" || r.Fallback.ErrorCode != 102101 || len(r.Upstreams) != 1 {
		t.Errorf("routes[0] = %+v, want gifts, 1500 ms, deny 102101, upstream gifts", r)
	}
	if got, want := v.Upstreams[0].Instances[0].URL, up.URL+"/gifts"; got != want {
		t.Errorf("instance url: got %q, want %q", got, want)
	}
}

func TestStatusFollowsAFailingUpstream(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusInternalServerError, "down"))
	s := startStack(t, failingConfig(up.URL).String())
	for range 2 {
		if got, want := s.post(t, "Live.CallbackBeforeSendGift"), "upstream_error"; got != want {
			t.Fatalf("fallback: got %q, want %q", got, want)
		}
	}
	if got, want := s.post(t, "Live.CallbackBeforeSendGift"), "breaker_open"; got != want {
		t.Fatalf("fallback after 2 failures: got %q, want %q", got, want)
	}
	_, _, body := get(t, s.admin+"/status.json")
	var v struct {
		Upstreams []struct {
			Instances []struct{ Breaker string } `json:"instances"`
		} `json:"upstreams"`
		Routes []struct {
			Name  string `json:"name"`
			Stats struct {
				Callbacks int64            `json:"callbacks"`
				ByReason  map[string]int64 `json:"fallbacks_by_reason"`
				P99Ms     float64          `json:"p99_ms"`
			} `json:"stats"`
		} `json:"routes"`
		Fallbacks []struct {
			Reason   string `json:"reason"`
			Decision string `json:"decision"`
			Route    string `json:"route"`
			App      string `json:"app"`
		} `json:"recent_fallbacks"`
		Transitions []struct{ To string } `json:"breaker_transitions"`
	}
	if err := json.Unmarshal([]byte(body), &v); err != nil {
		t.Fatalf("/status.json is not JSON: %v\n%s", err, body)
	}
	if got, want := v.Upstreams[0].Instances[0].Breaker, "open"; got != want {
		t.Errorf("breaker: got %q, want %q", got, want)
	}
	gifts := v.Routes[0]
	if gifts.Name != "gifts" || gifts.Stats.Callbacks != 3 || gifts.Stats.ByReason["upstream_error"] != 2 || gifts.Stats.ByReason["breaker_open"] != 1 || gifts.Stats.P99Ms <= 0 {
		t.Errorf("gifts route status = %+v, want 3 callbacks: 2 upstream_error, 1 breaker_open, a p99", gifts)
	}
	if got, want := len(v.Fallbacks), 3; got != want {
		t.Fatalf("recent fallbacks: got %d, want %d", got, want)
	}
	if f := v.Fallbacks[0]; f.Reason != "breaker_open" || f.Decision != "deny" || f.Route != "gifts" || f.App != "1400000001" {
		t.Errorf("newest fallback = %+v, want breaker_open deny on gifts for app 1400000001", f)
	}
	if len(v.Transitions) != 1 || v.Transitions[0].To != "open" {
		t.Errorf("transitions = %+v, want one to open", v.Transitions)
	}
	_, _, text := get(t, s.admin+"/metrics")
	for _, line := range []string{
		`callback_router_breaker_state{instance="` + up.URL + `",upstream="gifts"} 2`,
		`callback_router_fallbacks_total{app="1400000001",reason="breaker_open",route="gifts"} 1`,
	} {
		if !strings.Contains(text, line) {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func TestRoutesShowsTheApps(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	s := startStack(t, testutil.NewConfig("127.0.0.1:0", "").
		SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens: [prod-secret-1, prod-secret-2], trtc_key: trtcSecret0},
			{sdk_app_id: 1400000002, name: staging}]}`).
		Upstream("gifts", up.URL).
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: gifts}`).
		Route(`{name: staging-rest, commands: ["*"], apps: [staging]}`).String())
	for _, path := range []string{"/routes", "/status.json"} {
		_, _, body := get(t, s.admin+path)
		for _, secret := range []string{"prod-secret", "trtcSecret0"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s shows %q:\n%s", path, secret, body)
			}
		}
		var v struct {
			Apps []struct {
				Name     string   `json:"name"`
				SdkAppID string   `json:"sdk_app_id"`
				Tokens   int      `json:"tokens"`
				TRTCKey  bool     `json:"trtc_key"`
				Routes   []string `json:"routes"`
			} `json:"apps"`
			Routes []struct {
				Name string   `json:"name"`
				Apps []string `json:"apps"`
			} `json:"routes"`
		}
		if err := json.Unmarshal([]byte(body), &v); err != nil {
			t.Fatalf("%s is not JSON: %v", path, err)
		}
		got, _ := json.Marshal(v)
		want := `{"apps":[{"name":"prod","sdk_app_id":"1400000001","tokens":2,"trtc_key":true,"routes":["gifts"]},` +
			`{"name":"staging","sdk_app_id":"1400000002","tokens":0,"trtc_key":false,"routes":["gifts","staging-rest"]}],` +
			`"routes":[{"name":"gifts","apps":[]},{"name":"staging-rest","apps":["staging"]}`
		if !strings.HasPrefix(string(got), want) {
			t.Errorf("%s apps and routes:\ngot  %s\nwant %s…", path, got, want)
		}
	}
}

func TestStatusPageIsSelfContained(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	s := startStack(t, failingConfig(up.URL).String())
	status, hdr, page := get(t, s.admin+"/")
	if status != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s", status, hdr.Get("Content-Type"))
	}
	for _, external := range []string{`src="http`, `href="http`, `src="//`, `href="//`, "@import", "url(http"} {
		if strings.Contains(page, external) {
			t.Errorf("the status page loads something from elsewhere (%s)", external)
		}
	}
	if !strings.Contains(page, "status.json") {
		t.Errorf("the status page does not poll status.json")
	}
	if csp := hdr.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'self'") {
		t.Errorf("Content-Security-Policy = %q, want default-src 'self'", csp)
	}
}
