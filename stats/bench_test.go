package stats_test

import (
	"testing"
	"time"

	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/stats"
)

// BenchmarkObserve times recording one forwarded callback in the status page's window, on
// every core at once as under load.
func BenchmarkObserve(b *testing.B) {
	l := stats.New()
	ev := server.Event{Received: time.Now(), Latency: 600 * time.Microsecond, RequestID: "r", App: "1400000001",
		Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 1, UpstreamStatus: 200,
		Status: 200, Decision: server.DecisionUpstream}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			l.Observe(ev)
		}
	})
}
