package proxy_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// TestConnectionErrorsCarryNoURLSecrets: an upstream URL may carry credentials in its userinfo
// and its query (an api_key). When the connection fails, the error the proxy returns — which
// the router logs — names neither: net/http's `Post "<url>": …` wrapping must not leak them.
func TestConnectionErrorsCarryNoURLSecrets(t *testing.T) {
	for _, tc := range []struct {
		name string
		addr func(t *testing.T) string
	}{
		{"connection refused", func(t *testing.T) string { return upstreamtest.DeadAddr(t) }},
		{"connection reset", func(t *testing.T) string {
			return strings.TrimPrefix(upstreamtest.Start(t, upstreamtest.Reset()).URL, "http://")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			raw := "http://USERNAME:PASS@" + tc.addr(t) + "/x?api_key=SECRET"
			up, err := proxy.New(proxy.Spec{Name: "up", URLs: []string{raw}, MaxConns: 4, MaxResponseBytes: 1 << 20,
				Breaker: proxy.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Second, HalfOpenRequests: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer up.CloseIdleConnections()
			res := up.Caller(proxy.Policy{Retries: 1}).Forward(context.Background(), time.Now().Add(2*time.Second),
				&proxy.Call{Body: []byte(`{}`), RawQuery: "SdkAppid=1", RequestID: "r1"})
			if res.Err == nil {
				t.Fatalf("Forward to a failing upstream: err = nil, reason %q", res.Reason)
			}
			for _, secret := range []string{"SECRET", "PASS", "USERNAME", "api_key"} {
				if msg := res.Err.Error(); strings.Contains(msg, secret) {
					t.Errorf("Result.Err = %q, contains %q", msg, secret)
				}
				if strings.Contains(res.Instance, secret) {
					t.Errorf("Result.Instance = %q, contains %q", res.Instance, secret)
				}
			}
		})
	}
}
