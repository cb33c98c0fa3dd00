package server_test

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestRoutingPrecedence checks, on the wire, which upstream each command reaches: the exact
// name first, then the longest matching pattern, then "*"; unknown commands still route.
func TestRoutingPrecedence(t *testing.T) {
	names := []string{"exact", "long", "short", "any"}
	ups := map[string]*upstreamtest.Upstream{}
	for _, n := range names {
		ups[n] = upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, fmt.Sprintf(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":%q}`, n)))
	}
	r := startRouter(t, fmt.Sprintf(`
upstreams:
  exact: {url: %q}
  long: {url: %q}
  short: {url: %q}
  any: {url: %q}
routes:
  - commands: ["Live.*"]
    upstream: short
  - commands: ["*"]
    upstream: any
  - commands: ["Live.CallbackAfter*"]
    upstream: long
  - commands: ["Live.CallbackAfterEndBattle"]
    upstream: exact
`, ups["exact"].URL, ups["long"].URL, ups["short"].URL, ups["any"].URL))

	tests := []struct {
		name, query, body, want string
	}{
		{"exact name beats patterns", "CallbackCommand=Live.CallbackAfterEndBattle", "{}", "exact"},
		{"exact name ignores case", "CallbackCommand=live.callbackafterendbattle", "{}", "exact"},
		{"longest pattern beats shorter", "CallbackCommand=Live.CallbackAfterStartBattle", "{}", "long"},
		{"shorter pattern when the longer does not match", "CallbackCommand=Live.CallbackBeforeSendGift", "{}", "short"},
		{"catch-all for other planes", "CallbackCommand=Group.CallbackBeforeSendMsg", "{}", "any"},
		{"unknown commands still route", "CallbackCommand=Live.CallbackAfterSomethingNew", "{}", "long"},
		{"unknown plane routes to *", "CallbackCommand=Future.Command", "{}", "any"},
		{"command from the body when the query has none", "", `{"CallbackCommand":"Live.CallbackAfterEndBattle"}`, "exact"},
		{"query and body naming the same command", "CallbackCommand=Live.CallbackAfterEndBattle", `{"CallbackCommand":"Live.CallbackAfterEndBattle"}`, "exact"},
		{"percent-encoded command", "CallbackCommand=" + url.QueryEscape("Live.CallbackAfterEndBattle"), "{}", "exact"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.do(t, http.MethodPost, r.URL+"?SdkAppid=1&"+tt.query, tt.body)
			want := fmt.Sprintf(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":%q}`, tt.want)
			if a.Body != want {
				t.Errorf("answer %s, want %s (from upstream %s)", a.Body, want, tt.want)
			}
		})
	}
}

// TestNoRouteAnswersDefaultFallback: without a "*" route, an unmatched command gets the
// defaults' fallback with reason no_route; a route without an upstream answers from config.
func TestNoRouteAnswersDefaultFallback(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, fmt.Sprintf(`
defaults:
  fallback: {action: deny, error_code: 1, error_info: "no route"}
upstreams:
  up: {url: %q}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: up
  - commands: ["Group.*"]
    fallback: {action: allow}
`, up.URL))
	tests := []struct{ name, command, wantBody string }{
		{"no route at all", "State.StateChange", `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"no route"}`},
		{"route without upstream", "Group.CallbackBeforeSendMsg", allowEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.post(t, tt.command, "{}")
			if a.Status != 200 || a.Body != tt.wantBody || a.Fallback != "no_route" {
				t.Errorf("got %d %s (fallback %q), want 200 %s (no_route)", a.Status, a.Body, a.Fallback, tt.wantBody)
			}
		})
	}
	if up.Hits() != 0 {
		t.Errorf("upstream called %d times, want 0", up.Hits())
	}
}
