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
	// Caller calls a synchronous route's upstream with the route's policy (retries,
	// retry_on, attempt_timeout); nil for an async route or one without an upstream.
	Caller *proxy.Caller
	Async  bool
	// Ordered delivers an async route's callbacks of one room in arrival order.
	Ordered bool
	// Journal delivers the route's fallback verdicts to its upstream later.
	Journal bool
	// Shadow mirrors the route's callbacks to a candidate upstream; nil when it has none.
	Shadow *Shadow

	Deadline time.Duration
	// Window is how long the sender waits for the route's answer: tencent.trtc_window for a
	// route that serves only TRTC events, else tencent.window. Storing a callback for it,
	// which happens before the answer, must end inside it.
	Window         time.Duration
	Retries        int
	AttemptTimeout time.Duration
	RetryOn        []int
	Fallback       Verdict
	MaxInFlight    int64

	inFlight atomic.Int64
	// appInFlight counts the callbacks in flight by app, indexed as Table.Apps.
	appInFlight []atomic.Int64
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

// Acquire takes an in-flight slot for a callback of app (nil when not known) and reports
// whether one was free. A route past its limit sheds load at once with its fallback rather
// than queue callbacks past their deadline. The limit is the route's, whatever the app; the
// per-app count is what route_in_flight{app} shows. Every successful Acquire must be paired
// with Release of the same app.
func (r *Route) Acquire(app *App) bool {
	if r.inFlight.Add(1) > r.MaxInFlight {
		r.inFlight.Add(-1)
		return false
	}
	if app != nil && app.index < len(r.appInFlight) {
		r.appInFlight[app.index].Add(1)
	}
	return true
}

// Release frees a slot taken by Acquire.
func (r *Route) Release(app *App) {
	if app != nil && app.index < len(r.appInFlight) {
		r.appInFlight[app.index].Add(-1)
	}
	r.inFlight.Add(-1)
}

// InFlight returns the callbacks the route is handling now.
func (r *Route) InFlight() int64 { return r.inFlight.Load() }

// InFlightOf returns the callbacks of app the route is handling now.
func (r *Route) InFlightOf(app *App) int64 {
	if app == nil || app.index >= len(r.appInFlight) {
		return 0
	}
	return r.appInFlight[app.index].Load()
}
