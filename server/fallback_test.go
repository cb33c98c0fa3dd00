package server_test

import (
	"fmt"
	"testing"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestFallbackEnvelopes: the fallback body is exactly the design's envelope for allow and
// deny, with the configured code and info, and X-Callback-Fallback names the reason.
func TestFallbackEnvelopes(t *testing.T) {
	dead := "http://" + upstreamtest.DeadAddr(t)
	tests := []struct {
		name, fallback, want string
	}{
		{"allow", `{action: allow}`, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
		{"deny with default code", `{action: deny}`, `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}`},
		{"deny with code and info", `{action: deny, error_code: 102150, error_info: "gifts paused"}`, `{"ActionStatus":"OK","ErrorCode":102150,"ErrorInfo":"gifts paused"}`},
		{"info needing escapes", `{action: deny, error_info: "say \"no\" \\ 礼物"}`, `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"say \"no\" \\ 礼物"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := startRouter(t, fmt.Sprintf(`
upstreams: {gifts: {url: %q}}
routes:
  - commands: [%q]
    upstream: gifts
    retries: 0
    fallback: %s
`, dead, giftCommand, tt.fallback))
			a := r.post(t, giftCommand, giftBody)
			if a.Status != 200 || a.Body != tt.want || a.Fallback != "upstream_error" {
				t.Errorf("got %d %s (fallback %q), want 200 %s (upstream_error)", a.Status, a.Body, a.Fallback, tt.want)
			}
		})
	}
}
