package server_test

import (
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/server"
)

// recorder is an Observer that keeps every event and delivery.
type recorder struct {
	mu         sync.Mutex
	events     []server.Event
	deliveries []bool
}

func (r *recorder) Observe(ev server.Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) Delivered(_, _ string, _ time.Duration, ok bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.deliveries = append(r.deliveries, ok)
}

func (r *recorder) last() server.Event {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.events[len(r.events)-1]
}

func TestObserverSeesWhatTheLogSays(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "busy"))
	rec := &recorder{}
	r := startRouter(t, configFor(giftCommand, up.URL, "    retries: 1\n"+giftDeny), server.WithObserver(server.Observers(nil, rec)))

	a := r.post(t, giftCommand, giftBody)
	ev := rec.last()
	if got, want := ev.RequestID, a.Header.Get("X-Request-Id"); got != want {
		t.Errorf("request id: got %q, want %q", got, want)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"command", ev.Command, giftCommand},
		{"route", ev.Route, giftCommand},
		{"upstream", ev.Upstream, "up"},
		{"attempts", ev.Attempts, 2},
		{"upstream status", ev.UpstreamStatus, 503},
		{"status", ev.Status, 200},
		{"decision", ev.Decision, server.DecisionDeny},
		{"reason", ev.Reason, proxy.ReasonUpstreamError},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if ev.Latency <= 0 || ev.Received.IsZero() {
		t.Errorf("latency %v, received %v: want both set", ev.Latency, ev.Received)
	}

	r.do(t, http.MethodGet, r.URL, "")
	if ev := rec.last(); ev.Decision != server.DecisionRejected || ev.RejectCode != "method_not_allowed" || ev.Status != 405 || ev.Route != "" {
		t.Errorf("GET: event %+v, want rejected method_not_allowed 405 without a route", ev)
	}
}

func TestObserverIsToldOfAsyncDeliveries(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	rec := &recorder{}
	r := startRouter(t, configFor("Live.CallbackAfterCreateRoom", up.URL, "    async: true\n"), server.WithObserver(rec))
	if a := r.post(t, "Live.CallbackAfterCreateRoom", `{}`); a.Status != 200 {
		t.Fatalf("status %d, want 200", a.Status)
	}
	if got, want := rec.last().Decision, server.DecisionQueued; got != want {
		t.Errorf("decision: got %q, want %q", got, want)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		n := len(rec.deliveries)
		rec.mu.Unlock()
		if n == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries reported: %d, want 1", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if !rec.deliveries[0] {
		t.Errorf("delivery reported as given up, want delivered")
	}
}
