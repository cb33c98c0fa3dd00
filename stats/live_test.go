package stats_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/stats"
)

func TestRecentFallbacksNewestFirstAndBounded(t *testing.T) {
	l := stats.New()
	now := time.Now()
	for i := range 120 {
		l.Observe(server.Event{Received: now, RequestID: fmt.Sprint("r", i), Route: "gifts", Decision: server.DecisionDeny, Reason: proxy.ReasonTimeout})
		l.Observe(server.Event{Received: now, RequestID: fmt.Sprint("ok", i), Route: "gifts", Decision: server.DecisionUpstream})
	}
	got := l.Fallbacks()
	if want := 50; len(got) != want {
		t.Fatalf("fallbacks kept: got %d, want %d", len(got), want)
	}
	if got, want := got[0].RequestID, "r119"; got != want {
		t.Errorf("newest: got %s, want %s", got, want)
	}
	if got, want := got[49].RequestID, "r70"; got != want {
		t.Errorf("oldest kept: got %s, want %s", got, want)
	}
	s := l.Route("gifts")
	if got, want := s.Callbacks, int64(240); got != want {
		t.Errorf("callbacks: got %d, want %d", got, want)
	}
	if got, want := s.ByReason["timeout"], int64(120); got != want {
		t.Errorf("timeouts: got %d, want %d", got, want)
	}
}

func TestTransitionsAndInstall(t *testing.T) {
	l := stats.New()
	l.BreakerChanged("gifts", "http://a/gifts", gobreaker.StateClosed, gobreaker.StateOpen)
	if got := l.Transitions(); len(got) != 1 || got[0].To != "open" || got[0].From != "closed" {
		t.Errorf("Transitions() = %+v, want one closed->open", got)
	}
	l.Observe(server.Event{Received: time.Now(), Route: "old-route", Decision: server.DecisionUpstream})
	l.Observe(server.Event{Received: time.Now(), Route: "*", Decision: server.DecisionUpstream})
	table := routertest.Table(t, `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`, router.Options{})
	l.Install(table)
	if got := l.Route("old-route").Callbacks; got != 0 {
		t.Errorf("a removed route kept %d callbacks, want 0", got)
	}
	if got, want := l.Route("*").Callbacks, int64(1); got != want {
		t.Errorf("a kept route: got %d callbacks, want %d", got, want)
	}
}

func TestObserveAllocatesNothingWithoutFallback(t *testing.T) {
	l := stats.New()
	ev := server.Event{Received: time.Now(), Route: "gifts", Decision: server.DecisionUpstream, Latency: time.Millisecond}
	l.Observe(ev)
	if got := testing.AllocsPerRun(1000, func() { l.Observe(ev) }); got != 0 {
		t.Errorf("Observe allocates %v times per callback, want 0", got)
	}
}

func TestNoRouteIsCountedButNotListed(t *testing.T) {
	l := stats.New()
	l.Observe(server.Event{Received: time.Now(), Route: "catch-all", Decision: server.DecisionAllow, Reason: server.ReasonNoRoute})
	s := l.Route("catch-all")
	if got, want := s.ByReason["no_route"], int64(1); got != want {
		t.Errorf("no_route by reason: got %d, want %d", got, want)
	}
	if got := s.Fallbacks; got != 0 {
		t.Errorf("fallbacks: got %d, want 0 (a route without upstream answers from config by design)", got)
	}
	if got := len(l.Fallbacks()); got != 0 {
		t.Errorf("recent fallbacks: got %d, want none", got)
	}
}
