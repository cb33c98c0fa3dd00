package router

import (
	"slices"
	"sync/atomic"
	"time"

	"github.com/callback-router/callback-router/proxy"
)

// Route is a compiled route: every policy resolved against defaults, the fallback envelope
// pre-built. Only its in-flight counter changes after Compile.
type Route struct {
	// Name labels the route in logs and metrics: the name from config, else its first command.
	Name     string
	Commands []string
	// Apps are the names of the apps the route admits; empty admits every app.
	Apps []string
	// Upstreams are called in order; a synchronous route has at most one, an async route
	// delivers to each (fan-out). Empty means the route answers from config alone.
	Upstreams []*proxy.Upstream
	Async     bool
	// Ordered delivers an async route's callbacks of one room in arrival order.
	Ordered bool
	// Journal delivers the route's fallback verdicts to its upstream later.
	Journal bool
	// Shadow mirrors the route's callbacks to a candidate upstream; nil when it has none.
	Shadow *Shadow

	Deadline       time.Duration
	Retries        int
	AttemptTimeout time.Duration
	RetryOn        []int
	Fallback       Verdict
	MaxInFlight    int64

	inFlight atomic.Int64
}

// Admits reports whether the route serves callbacks of the named app.
func (r *Route) Admits(app string) bool {
	return len(r.Apps) == 0 || slices.Contains(r.Apps, app)
}

// Upstream returns the upstream of a synchronous route, nil when it has none.
func (r *Route) Upstream() *proxy.Upstream {
	if len(r.Upstreams) == 0 {
		return nil
	}
	return r.Upstreams[0]
}

// Acquire takes an in-flight slot and reports whether one was free. A route past its limit
// sheds load at once with its fallback rather than queue callbacks past their deadline.
// Every successful Acquire must be paired with Release.
func (r *Route) Acquire() bool {
	if r.inFlight.Add(1) > r.MaxInFlight {
		r.inFlight.Add(-1)
		return false
	}
	return true
}

// Release frees a slot taken by Acquire.
func (r *Route) Release() { r.inFlight.Add(-1) }

// InFlight returns the callbacks the route is handling now.
func (r *Route) InFlight() int64 { return r.inFlight.Load() }
