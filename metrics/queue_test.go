package metrics_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
)

// TestQueueMetrics: the delivery backend's depth, size, oldest age, dead letters and refusals
// are read at scrape time from a real store.
func TestQueueMetrics(t *testing.T) {
	q, err := delivery.OpenBolt(delivery.BoltOptions{Dir: t.TempDir(), MaxItems: 2, MaxBytes: 1 << 20},
		delivery.Options{Workers: 1, MaxAge: time.Hour, AttemptDeadline: time.Second,
			Backoff: delivery.Backoff{Initial: 200 * time.Millisecond, Max: time.Minute}, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	up, err := proxy.New(proxy.Spec{Name: "audit", URLs: []string{"http://127.0.0.1:9/"}})
	if err != nil {
		t.Fatal(err)
	}
	// Not started: the callbacks stay pending.
	for _, body := range []string{`{"n":1}`, `{"n":2}`, `{"n":3}`} {
		q.Enqueue(context.Background(), delivery.Job{Upstream: up, Command: "Mic.CallbackAfterSeatInfoChanged", Body: []byte(body),
			EventID: delivery.EventID("Mic.CallbackAfterSeatInfoChanged", "", []byte(body)), Received: time.Now().Add(-time.Minute)})
	}
	m := metrics.New()
	m.Watch(func() *router.Table { return nil }, q)
	text := scrape(t, m)
	wantSeries(t, text,
		"callback_router_async_queue_depth 2",
		"callback_router_async_dead_letters 0",
		`callback_router_async_enqueue_refused_total{reason="full"} 1`,
		`callback_router_async_deliveries_total{outcome="delivered"} 0`,
	)
	if !strings.Contains(text, "callback_router_async_queue_oldest_age_seconds 6") {
		t.Errorf("/metrics: oldest age not about a minute:\n%s", grepLines(text, "oldest"))
	}
}

func grepLines(text, word string) string {
	var out []string
	for _, l := range strings.Split(text, "\n") {
		if strings.Contains(l, word) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
