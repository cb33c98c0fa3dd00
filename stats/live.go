package stats

import (
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/internal/lazymap"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// Ring sizes: enough to see what happened in the last moments of an incident.
const (
	recentFallbacks   = 50
	recentTransitions = 20
)

// RejectedRoute is the key under which requests refused before routing are counted.
const RejectedRoute = ""

// Live keeps the status page's numbers. It is safe for concurrent use.
type Live struct {
	now func() time.Time

	mu     sync.RWMutex
	routes map[string]*window

	fallbacks   *ring[Fallback]
	transitions *ring[Transition]

	shadowMu sync.RWMutex
	shadows  map[string]*shadowRoute
}

var (
	_ server.Observer       = (*Live)(nil)
	_ server.ShadowObserver = (*Live)(nil)
	_ proxy.StateChangeFunc = (*Live)(nil).BreakerChanged
)

// New returns an empty Live.
func New() *Live {
	return &Live{
		now:         time.Now,
		routes:      map[string]*window{},
		fallbacks:   newRing[Fallback](recentFallbacks),
		transitions: newRing[Transition](recentTransitions),
		shadows:     map[string]*shadowRoute{},
	}
}

// Observe records one answered callback; it is server.Observer's method.
func (l *Live) Observe(ev server.Event) {
	reason := -1
	if ev.Reason != "" {
		reason = reasonID(string(ev.Reason))
	}
	l.window(ev.Route).add(ev.Received.Add(ev.Latency).Unix(), ev.Latency, reason)
	if reason < 0 || reason == noRoute {
		return // the ring lists what Tencent was told on a failing upstream's behalf
	}
	l.fallbacks.add(Fallback{
		Time: ev.Received, RequestID: ev.RequestID, App: ev.App, Command: ev.Command, Route: ev.Route,
		Upstream: ev.Upstream, Reason: string(ev.Reason), Decision: ev.Decision,
		UpstreamStatus: ev.UpstreamStatus, Attempts: ev.Attempts,
		LatencyMs: float64(ev.Latency.Microseconds()) / 1000,
	})
}

// Shadowed records how a mirrored callback compared; it is server.ShadowObserver's method.
func (l *Live) Shadowed(ev server.ShadowEvent) {
	lazymap.Get(&l.shadowMu, l.shadows, ev.Route, newShadowRoute).add(l.now().Unix(), ev)
}

// Shadow returns a route's shadow panel, empty when it has mirrored nothing.
func (l *Live) Shadow(route string) ShadowStats {
	l.shadowMu.RLock()
	s := l.shadows[route]
	l.shadowMu.RUnlock()
	if s == nil {
		s = newShadowRoute()
	}
	return s.snapshot(l.now().Unix())
}

// BreakerChanged records a breaker transition. It is a proxy.StateChangeFunc and runs under
// the breaker's lock: it touches nothing but its own ring.
func (l *Live) BreakerChanged(upstream, instance string, from, to gobreaker.State) {
	l.transitions.add(Transition{Time: l.now(), Upstream: upstream, Instance: instance, From: from.String(), To: to.String()})
}

// window returns a route's window, creating it on the route's first callback.
func (l *Live) window(route string) *window {
	return lazymap.Get(&l.mu, l.routes, route, func() *window { return &window{} })
}

// Install drops the windows of routes the new table does not have (and the shadow panels of
// routes that no longer shadow), so a renamed route does not linger on the page. A route
// that stays keeps its window across the reload.
func (l *Live) Install(t *router.Table) {
	keep := map[string]bool{RejectedRoute: true, t.NoRoute.Name: true}
	shadowed := map[string]bool{}
	for _, r := range t.Routes {
		keep[r.Name] = true
		shadowed[r.Name] = r.Shadow != nil
	}
	l.mu.Lock()
	for name := range l.routes {
		if !keep[name] {
			delete(l.routes, name)
		}
	}
	l.mu.Unlock()
	l.shadowMu.Lock()
	for name := range l.shadows {
		if !shadowed[name] {
			delete(l.shadows, name)
		}
	}
	l.shadowMu.Unlock()
}

// Route returns a route's numbers over the window, zero when it has seen no callback.
func (l *Live) Route(name string) RouteStats {
	l.mu.RLock()
	w := l.routes[name]
	l.mu.RUnlock()
	if w == nil {
		w = &window{}
	}
	return w.snapshot(l.now().Unix())
}

// Fallbacks returns the last fallbacks, the newest first.
func (l *Live) Fallbacks() []Fallback { return l.fallbacks.newestFirst() }

// Transitions returns the last breaker transitions, the newest first.
func (l *Live) Transitions() []Transition { return l.transitions.newestFirst() }
