package router_test

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
)

// reuseBase has two upstreams; each case below changes the config and says whether gifts
// must keep its *proxy.Upstream (and so its breakers and pools) across the reload.
const reuseBase = `
defaults:
  deadline: 1500ms
  breaker: {consecutive_failures: 5, open_for: 10s, half_open_requests: 1}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  audit: {url: "http://127.0.0.1:9003/events"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
`

func TestCompileReusesUnchangedUpstreams(t *testing.T) {
	tests := []struct {
		name      string
		old, new  string
		wantGifts bool // gifts is the same object after the reload
		wantAudit bool
	}{
		{name: "same config", old: "", new: "", wantGifts: true, wantAudit: true},
		{name: "route deadline changed", old: "deadline: 1500ms", new: "deadline: 1200ms", wantGifts: true, wantAudit: true},
		{name: "gifts url changed", old: "9001/gifts", new: "9002/gifts", wantGifts: false, wantAudit: true},
		{name: "default breaker changed", old: "consecutive_failures: 5", new: "consecutive_failures: 3", wantGifts: false, wantAudit: false},
		{name: "gifts gets its own breaker", old: `gifts: {url: "http://127.0.0.1:9001/gifts"}`,
			new: `gifts: {url: "http://127.0.0.1:9001/gifts", breaker: {open_for: 2s}}`, wantGifts: false, wantAudit: true},
		{name: "gifts limit changed", old: `gifts: {url: "http://127.0.0.1:9001/gifts"}`,
			new: `gifts: {url: "http://127.0.0.1:9001/gifts", max_response_bytes: 4096}`, wantGifts: false, wantAudit: true},
		{name: "gifts gets a second instance", old: `gifts: {url: "http://127.0.0.1:9001/gifts"}`,
			new: `gifts: {urls: ["http://127.0.0.1:9001/gifts", "http://127.0.0.1:9011/gifts"]}`, wantGifts: false, wantAudit: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := compile(t, reuseBase)
			next := routertest.Table(t, strings.Replace(reuseBase, tt.old, tt.new, 1), router.Options{Previous: old})
			if got := next.Upstreams["gifts"] == old.Upstreams["gifts"]; got != tt.wantGifts {
				t.Errorf("gifts kept: got %v, want %v", got, tt.wantGifts)
			}
			if got := next.Upstreams["audit"] == old.Upstreams["audit"]; got != tt.wantAudit {
				t.Errorf("audit kept: got %v, want %v", got, tt.wantAudit)
			}
			if got, want := next.Routes[0].Upstream(), next.Upstreams["gifts"]; got != want {
				t.Errorf("route's upstream is not the table's gifts upstream")
			}
			var wantRetired []string
			if !tt.wantGifts {
				wantRetired = append(wantRetired, "gifts")
			}
			if !tt.wantAudit {
				wantRetired = append(wantRetired, "audit")
			}
			if got, want := names(router.Retired(old, next)), strings.Join(wantRetired, ","); !sameSet(got, want) {
				t.Errorf("Retired() = %q, want %q", got, want)
			}
		})
	}
}

func TestRetiredListsRemovedUpstreams(t *testing.T) {
	old := compile(t, reuseBase)
	cfg := routertest.Parse(t, `
defaults:
  breaker: {consecutive_failures: 5, open_for: 10s, half_open_requests: 1}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: gifts
`)
	next := routertest.Compile(t, cfg, router.Options{Previous: old})
	if got, want := names(router.Retired(old, next)), "audit"; got != want {
		t.Errorf("Retired() = %q, want %q", got, want)
	}
	if next.Upstreams["gifts"] != old.Upstreams["gifts"] {
		t.Errorf("gifts was rebuilt, want it kept")
	}
	// Closing a retired upstream's idle connections leaves it usable by callbacks in flight.
	for _, up := range router.Retired(old, next) {
		up.CloseIdleConnections()
	}
	if got := router.Retired(nil, next); got != nil {
		t.Errorf("Retired(nil, t) = %v, want nil", got)
	}
}

func names(ups []*proxy.Upstream) string {
	var out []string
	for _, u := range ups {
		out = append(out, u.Name())
	}
	return strings.Join(out, ",")
}

func sameSet(a, b string) bool {
	as, bs := strings.Split(a, ","), strings.Split(b, ",")
	if len(as) != len(bs) {
		return false
	}
	for _, x := range as {
		if !strings.Contains(","+b+",", ","+x+",") {
			return false
		}
	}
	return true
}
