package router_test

import (
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/router"
)

// compile parses and compiles a YAML config.
func compile(t *testing.T, yaml string) *router.Table {
	t.Helper()
	return routertest.Table(t, yaml, router.Options{})
}

// precedence lists the catch-all first and the shorter pattern before the longer one, so that
// config order cannot be what makes the most specific route win.
const precedence = `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  live: {url: "http://127.0.0.1:9002/live"}
  audit: {url: "http://127.0.0.1:9003/events"}
routes:
  - commands: ["*"]
  - name: live-all
    commands: ["Live.*"]
    upstream: live
  - name: live-after
    commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
  - name: create-room
    commands: ["Live.CallbackAfterCreateRoom"]
    upstream: live
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
`

func TestLookupPrecedence(t *testing.T) {
	table := compile(t, precedence)
	tests := []struct {
		name      string
		command   string
		wantRoute string
		wantBy    string
		wantPat   string
	}{
		{name: "exact", command: "Live.CallbackBeforeSendGift", wantRoute: "Live.CallbackBeforeSendGift", wantBy: router.ByExact, wantPat: "Live.CallbackBeforeSendGift"},
		{name: "exact ignoring case", command: "live.callbackbeforesendgift", wantRoute: "Live.CallbackBeforeSendGift", wantBy: router.ByExact, wantPat: "Live.CallbackBeforeSendGift"},
		{name: "exact beats a matching pattern", command: "Live.CallbackAfterCreateRoom", wantRoute: "create-room", wantBy: router.ByExact, wantPat: "Live.CallbackAfterCreateRoom"},
		{name: "exact ignoring case beats a matching pattern", command: "LIVE.CALLBACKAFTERCREATEROOM", wantRoute: "create-room", wantBy: router.ByExact, wantPat: "Live.CallbackAfterCreateRoom"},
		{name: "longest pattern beats a shorter one", command: "Live.CallbackAfterDestroyRoom", wantRoute: "live-after", wantBy: router.ByPrefix, wantPat: "Live.CallbackAfter*"},
		{name: "prefix ignoring case", command: "live.callbackafterdestroyroom", wantRoute: "live-after", wantBy: router.ByPrefix, wantPat: "Live.CallbackAfter*"},
		{name: "shorter pattern when the longer does not match", command: "Live.CallbackBeforeSomethingNew", wantRoute: "live-all", wantBy: router.ByPrefix, wantPat: "Live.*"},
		{name: "pattern matches its bare prefix", command: "Live.", wantRoute: "live-all", wantBy: router.ByPrefix, wantPat: "Live.*"},
		{name: "catch-all last", command: "Group.CallbackBeforeSendMsg", wantRoute: "*", wantBy: router.ByCatchAll, wantPat: "*"},
		{name: "unknown command routes to catch-all", command: "Brand.CallbackAfterNewThing", wantRoute: "*", wantBy: router.ByCatchAll, wantPat: "*"},
		{name: "shorter than every prefix", command: "Live", wantRoute: "*", wantBy: router.ByCatchAll, wantPat: "*"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := table.Lookup(table.Apps[0], tt.command)
			if m.Route == nil {
				t.Fatalf("Lookup(%q).Route = nil", tt.command)
			}
			if got, want := m.Route.Name, tt.wantRoute; got != want {
				t.Errorf("Lookup(%q) route: got %q, want %q", tt.command, got, want)
			}
			if got, want := m.By, tt.wantBy; got != want {
				t.Errorf("Lookup(%q) by: got %q, want %q", tt.command, got, want)
			}
			if got, want := m.Pattern, tt.wantPat; got != want {
				t.Errorf("Lookup(%q) pattern: got %q, want %q", tt.command, got, want)
			}
		})
	}
}

func TestLookupNoRoute(t *testing.T) {
	table := compile(t, `
defaults:
  fallback: {action: deny}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    fallback: {action: allow}
  - commands: ["Live.CallbackAfter*"]
    upstream: gifts
    async: true
`)
	for _, command := range []string{"Group.CallbackBeforeSendMsg", "Brand.New", "", "Live.CallbackBeforeSendGift2"} {
		t.Run(command, func(t *testing.T) {
			m := table.Lookup(table.Apps[0], command)
			if got, want := m.By, router.ByNone; got != want {
				t.Errorf("Lookup(%q) by: got %q, want %q", command, got, want)
			}
			if got, want := m.Route, table.NoRoute; got != want {
				t.Errorf("Lookup(%q) route: got %v, want the NoRoute route", command, got)
			}
			if got, want := m.Pattern, ""; got != want {
				t.Errorf("Lookup(%q) pattern: got %q, want %q", command, got, want)
			}
		})
	}
	nr := table.NoRoute
	if got, want := nr.Name, "no_route"; got != want {
		t.Errorf("NoRoute.Name = %q, want %q", got, want)
	}
	if got, want := string(nr.Fallback.Envelope), `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}`; got != want {
		t.Errorf("NoRoute fallback = %s, want %s", got, want)
	}
	if nr.Upstream() != nil {
		t.Errorf("NoRoute.Upstream() = %v, want nil", nr.Upstream())
	}
}

func TestPolicyInheritance(t *testing.T) {
	table := compile(t, `
defaults:
  deadline: 1200ms
  retries: 2
  attempt_timeout: 300ms
  retry_on: [503]
  max_in_flight: 10
  fallback: {action: allow}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - name: inherits
    commands: ["Live.CallbackAfterCreateRoom"]
    upstream: gifts
  - name: overrides
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 900ms
    retries: 0
    attempt_timeout: 0s
    retry_on: [502, 504]
    max_in_flight: 3
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
`)
	tests := []struct {
		name           string
		route          *router.Route
		deadline       time.Duration
		retries        int
		attemptTimeout time.Duration
		retryOn        string
		maxInFlight    int64
		envelope       string
	}{
		{name: "unset keys come from defaults", route: table.Routes[0], deadline: 1200 * time.Millisecond, retries: 2, attemptTimeout: 300 * time.Millisecond, retryOn: "[503]", maxInFlight: 10,
			envelope: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
		{name: "set keys override, zero included", route: table.Routes[1], deadline: 900 * time.Millisecond, retries: 0, attemptTimeout: 0, retryOn: "[502 504]", maxInFlight: 3,
			envelope: `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`},
		{name: "no route takes the defaults", route: table.NoRoute, deadline: 1200 * time.Millisecond, retries: 2, attemptTimeout: 300 * time.Millisecond, retryOn: "[503]", maxInFlight: 10,
			envelope: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := tt.route
			if got, want := r.Deadline, tt.deadline; got != want {
				t.Errorf("Deadline: got %v, want %v", got, want)
			}
			if got, want := r.Retries, tt.retries; got != want {
				t.Errorf("Retries: got %d, want %d", got, want)
			}
			if got, want := r.AttemptTimeout, tt.attemptTimeout; got != want {
				t.Errorf("AttemptTimeout: got %v, want %v", got, want)
			}
			if got, want := fmt.Sprint(r.RetryOn), tt.retryOn; got != want {
				t.Errorf("RetryOn: got %s, want %s", got, want)
			}
			if got, want := r.MaxInFlight, tt.maxInFlight; got != want {
				t.Errorf("MaxInFlight: got %d, want %d", got, want)
			}
			if got, want := string(r.Fallback.Envelope), tt.envelope; got != want {
				t.Errorf("Fallback envelope: got %s, want %s", got, want)
			}
		})
	}
}

func TestFallbackVerdicts(t *testing.T) {
	table := compile(t, `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
  - commands: ["Group.CallbackBeforeSendMsg"]
    fallback: {action: deny}
  - commands: ["C2C.CallbackBeforeSendMsg"]
    fallback: {action: deny, error_code: 2}
  - commands: ["Live.CallbackAfter*"]
    fallback: {action: allow}
  - commands: ["*"]
`)
	tests := []struct {
		command    string
		wantAction string
		wantCode   int64
		want       string
	}{
		{command: "Live.CallbackBeforeSendGift", wantAction: "deny", wantCode: 102101, want: `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`},
		{command: "Group.CallbackBeforeSendMsg", wantAction: "deny", wantCode: 1, want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}`},
		{command: "C2C.CallbackBeforeSendMsg", wantAction: "deny", wantCode: 2, want: `{"ActionStatus":"OK","ErrorCode":2,"ErrorInfo":""}`},
		{command: "Live.CallbackAfterCreateRoom", wantAction: "allow", wantCode: 0, want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
		{command: "State.StateChange", wantAction: "allow", wantCode: 0, want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			v := table.Lookup(table.Apps[0], tt.command).Route.Fallback
			if got, want := v.Action(), tt.wantAction; got != want {
				t.Errorf("Action(): got %q, want %q", got, want)
			}
			if got, want := v.ErrorCode, tt.wantCode; got != want {
				t.Errorf("ErrorCode: got %d, want %d", got, want)
			}
			if got, want := string(v.Envelope), tt.want; got != want {
				t.Errorf("Envelope: got %s, want %s", got, want)
			}
		})
	}
}

func TestCompiledRoutes(t *testing.T) {
	table := compile(t, `
server: {path: "/tencent", max_body_bytes: 4096}
tencent: {auth_token: "live-token", auth_tokens: ["chat-token"], max_clock_skew: 30s}
upstreams:
  Gifts: {url: "http://127.0.0.1:9001/gifts"}
  audit: {url: "http://127.0.0.1:9003/events"}
  analytics: {urls: ["http://127.0.0.1:9004/a", "http://127.0.0.1:9005/a"]}
routes:
  - commands: ["Live.CallbackBeforeSendGift", "Live.CallbackBeforeOther"]
    upstream: gifts
  - name: fan-out
    commands: ["Live.CallbackAfter*"]
    upstreams: [audit, analytics]
    async: true
  - commands: ["*"]
`)
	tests := []struct {
		name          string
		route         *router.Route
		wantName      string
		wantUpstreams string
		wantAsync     bool
	}{
		{name: "named after its first command", route: table.Routes[0], wantName: "Live.CallbackBeforeSendGift", wantUpstreams: "gifts"},
		{name: "named in config, fan-out in order", route: table.Routes[1], wantName: "fan-out", wantUpstreams: "audit,analytics", wantAsync: true},
		{name: "no upstream", route: table.Routes[2], wantName: "*", wantUpstreams: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := tt.route.Name, tt.wantName; got != want {
				t.Errorf("Name: got %q, want %q", got, want)
			}
			var names []string
			for _, up := range tt.route.Upstreams {
				names = append(names, up.Name())
			}
			if got, want := strings.Join(names, ","), tt.wantUpstreams; got != want {
				t.Errorf("Upstreams: got %q, want %q", got, want)
			}
			if got, want := tt.route.Async, tt.wantAsync; got != want {
				t.Errorf("Async: got %v, want %v", got, want)
			}
			if up := tt.route.Upstream(); (up == nil) != (tt.wantUpstreams == "") {
				t.Errorf("Upstream(): got %v, want nil only without upstreams", up)
			}
		})
	}
	if got, want := table.Path, "/tencent"; got != want {
		t.Errorf("Path: got %q, want %q", got, want)
	}
	if got, want := strings.Join(table.Apps[0].Tokens, ","), "live-token,chat-token"; got != want {
		t.Errorf("Tokens: got %q, want %q", got, want)
	}
	if got, want := table.MaxClockSkew, 30*time.Second; got != want {
		t.Errorf("MaxClockSkew: got %v, want %v", got, want)
	}
	if got, want := len(table.Upstreams), 3; got != want {
		t.Errorf("Upstreams: got %d, want %d", got, want)
	}
}

func TestCompileMissingUpstream(t *testing.T) {
	// Validate refuses this config; Compile must not trust that it ran.
	cfg := routertest.Parse(t, `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]
`)
	cfg.Routes[0].Upstream = "giftz"
	_, err := router.Compile(cfg, router.Options{})
	if err == nil || !strings.Contains(err.Error(), "routes[0].upstream") {
		t.Errorf("Compile() = %v, want an error naming routes[0].upstream", err)
	}
}

func TestApp(t *testing.T) {
	listed := compile(t, `
tencent: {sdk_app_ids: [1400000001, 1600000002], auth_token: shared}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"]}]
`)
	anyApp := compile(t, `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"]}]
`)
	apps := compile(t, `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [p0, p1], trtc_key: pk}
    - {sdk_app_id: 1400000002, name: staging, tokens: [s0]}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"]}]
`)
	tests := []struct {
		name       string
		table      *router.Table
		sdkAppID   string
		wantName   string // "" when not served
		wantTokens string
		wantKey    string
	}{
		{name: "listed", table: listed, sdkAppID: "1400000001", wantName: "1400000001", wantTokens: "shared"},
		{name: "second listed shares the tokens", table: listed, sdkAppID: "1600000002", wantName: "1600000002", wantTokens: "shared"},
		{name: "not listed", table: listed, sdkAppID: "1400000003"},
		{name: "empty", table: listed, sdkAppID: ""},
		{name: "leading zero is another string", table: listed, sdkAppID: "01400000001"},
		{name: "not a number", table: listed, sdkAppID: "abc"},
		{name: "any app when none listed", table: anyApp, sdkAppID: "1400000003", wantName: "any"},
		{name: "even empty when none listed", table: anyApp, sdkAppID: "", wantName: "any"},
		{name: "apps: prod", table: apps, sdkAppID: "1400000001", wantName: "prod", wantTokens: "p0,p1", wantKey: "pk"},
		{name: "apps: staging has its own tokens only", table: apps, sdkAppID: "1400000002", wantName: "staging", wantTokens: "s0"},
		{name: "apps: not served", table: apps, sdkAppID: "1400000003"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := tt.table.App(tt.sdkAppID)
			if tt.wantName == "" {
				if a != nil {
					t.Errorf("App(%q) = %q, want nil (not served)", tt.sdkAppID, a.Name)
				}
				return
			}
			if a == nil {
				t.Fatalf("App(%q) = nil, want %q", tt.sdkAppID, tt.wantName)
			}
			if got, want := a.Name, tt.wantName; got != want {
				t.Errorf("App(%q).Name = %q, want %q", tt.sdkAppID, got, want)
			}
			if got, want := strings.Join(a.Tokens, ","), tt.wantTokens; got != want {
				t.Errorf("App(%q).Tokens = %q, want %q", tt.sdkAppID, got, want)
			}
			if got, want := strings.Join(a.TokenLabels, ","), labels(len(a.Tokens)); got != want {
				t.Errorf("App(%q).TokenLabels = %q, want %q", tt.sdkAppID, got, want)
			}
			if got, want := a.TRTCKey, tt.wantKey; got != want {
				t.Errorf("App(%q).TRTCKey = %q, want %q", tt.sdkAppID, got, want)
			}
			if got := tt.table.AppNamed(tt.wantName); got != a {
				t.Errorf("AppNamed(%q) is not App(%q)", tt.wantName, tt.sdkAppID)
			}
		})
	}
	if got, want := listed.ServesAnyApp(), false; got != want {
		t.Errorf("ServesAnyApp() with ids = %v, want %v", got, want)
	}
	if got, want := anyApp.ServesAnyApp(), true; got != want {
		t.Errorf("ServesAnyApp() without ids = %v, want %v", got, want)
	}
	if got, want := apps.ServesAnyApp(), false; got != want {
		t.Errorf("ServesAnyApp() with apps = %v, want %v", got, want)
	}
}

// labels returns "0,1,…,n-1".
func labels(n int) string {
	var out []string
	for i := range n {
		out = append(out, fmt.Sprint(i))
	}
	return strings.Join(out, ",")
}

const limited = `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes:
  - commands: ["*"]
    upstream: gifts
    max_in_flight: 3
`

func TestAcquireRelease(t *testing.T) {
	r := compile(t, limited).Routes[0]
	for i := range 3 {
		if !r.Acquire(nil) {
			t.Fatalf("Acquire() #%d = false, want true", i+1)
		}
	}
	if got, want := r.InFlight(), int64(3); got != want {
		t.Errorf("InFlight() = %d, want %d", got, want)
	}
	if r.Acquire(nil) {
		t.Errorf("Acquire() past max_in_flight = true, want false")
	}
	if got, want := r.InFlight(), int64(3); got != want {
		t.Errorf("InFlight() after a refused Acquire = %d, want %d", got, want)
	}
	r.Release(nil)
	if !r.Acquire(nil) {
		t.Errorf("Acquire() after Release = false, want true")
	}
	for range 3 {
		r.Release(nil)
	}
	if got, want := r.InFlight(), int64(0); got != want {
		t.Errorf("InFlight() after every Release = %d, want %d", got, want)
	}
}

func TestAcquireConcurrent(t *testing.T) {
	r := compile(t, limited).Routes[0]
	const goroutines, rounds = 32, 500
	var holders, peak, granted atomic.Int64
	var wg sync.WaitGroup
	start := make(chan struct{})
	for range goroutines {
		wg.Go(func() {
			<-start
			for range rounds {
				if !r.Acquire(nil) {
					continue
				}
				granted.Add(1)
				n := holders.Add(1)
				for {
					p := peak.Load()
					if n <= p || peak.CompareAndSwap(p, n) {
						break
					}
				}
				holders.Add(-1)
				r.Release(nil)
			}
		})
	}
	close(start)
	wg.Wait()
	if got, limit := peak.Load(), r.MaxInFlight; got > limit {
		t.Errorf("peak holders = %d, want at most max_in_flight %d", got, limit)
	}
	if granted.Load() == 0 {
		t.Errorf("no Acquire succeeded")
	}
	if got, want := r.InFlight(), int64(0); got != want {
		t.Errorf("InFlight() after all released = %d, want %d", got, want)
	}
}
