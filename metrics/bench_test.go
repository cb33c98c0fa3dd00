package metrics_test

import (
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// BenchmarkObserve times recording one forwarded callback, on every core at once as under
// load: what each callback pays for its metrics, contention included.
func BenchmarkObserve(b *testing.B) {
	m := metrics.New()
	m.Install(routertest.Table(b, twoRoutes, router.Options{}))
	ev := server.Event{Received: time.Now(), Latency: 600 * time.Microsecond, RequestID: "r", App: "1400000001",
		Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Instance: "http://127.0.0.1:9001/gifts",
		Attempts: 1, UpstreamStatus: 200, Status: 200, Decision: server.DecisionUpstream}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			m.Observe(ev)
		}
	})
}
