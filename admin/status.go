package admin

import (
	_ "embed"
	"net/http"
	"time"

	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/stats"
)

// statusHTML is the status page: one file, inline CSS and JS, no external assets, so it
// works offline and behind any proxy. It polls /status.json.
//
//go:embed status.html
var statusHTML []byte

// statusView is what the status page polls.
type statusView struct {
	Now         time.Time          `json:"now"`
	StartedAt   time.Time          `json:"started_at"`
	Version     string             `json:"version"`
	Ready       bool               `json:"ready"`
	Config      reload.Status      `json:"config"`
	Apps        []appView          `json:"apps"`
	Queue       *queueView         `json:"queue,omitempty"`
	Upstreams   []upstreamView     `json:"upstreams"`
	Routes      []routeStatus      `json:"routes"`
	Rejected    stats.RouteStats   `json:"rejected"`
	Fallbacks   []stats.Fallback   `json:"recent_fallbacks"`
	Transitions []stats.Transition `json:"breaker_transitions"`
}

// routeStatus is a route with its live numbers and, when it shadows a synchronous route,
// its shadow panel.
type routeStatus struct {
	routeView
	Stats       stats.RouteStats   `json:"stats"`
	ShadowStats *stats.ShadowStats `json:"shadow_stats,omitempty"`
}

type queueView struct {
	Backend   string  `json:"backend"`
	Depth     int64   `json:"depth"`
	Dead      int64   `json:"dead_letters"`
	OldestAge float64 `json:"oldest_age_s"`
	Delivered uint64  `json:"delivered"`
	Dropped   uint64  `json:"dropped"`
}

func (s *Server) status() statusView {
	t := s.opts.Table()
	v := statusView{
		Now: time.Now(), StartedAt: s.started, Version: s.opts.Version,
		Ready:     s.opts.Ready == nil || s.opts.Ready(),
		Upstreams: viewUpstreams(t),
		Apps:      viewApps(t),
		Config:    reload.Status{LoadedAt: t.LoadedAt},
	}
	if s.opts.Reload != nil {
		v.Config = s.opts.Reload()
	}
	if q := s.opts.Queue; q != nil {
		st := q.Stats()
		v.Queue = &queueView{Backend: st.Backend, Depth: st.Pending, Dead: st.Dead, Delivered: st.Delivered, Dropped: st.DeadAdded}
		if !st.Oldest.IsZero() {
			v.Queue.OldestAge = time.Since(st.Oldest).Seconds()
		}
	}
	live := s.opts.Live
	for _, r := range append(t.Routes[:len(t.Routes):len(t.Routes)], t.NoRoute) {
		rs := routeStatus{routeView: viewRoute(r)}
		if live != nil {
			rs.Stats = live.Route(r.Name)
			if r.Shadow != nil && !r.Async {
				st := live.Shadow(r.Name)
				rs.ShadowStats = &st
			}
		}
		v.Routes = append(v.Routes, rs)
	}
	v.Fallbacks, v.Transitions = []stats.Fallback{}, []stats.Transition{}
	if live != nil {
		v.Rejected = live.Route(stats.RejectedRoute)
		v.Fallbacks, v.Transitions = live.Fallbacks(), live.Transitions()
	}
	return v
}

func (s *Server) statusJSON(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, s.status())
}

func (s *Server) statusPage(w http.ResponseWriter, _ *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	// Everything is inline; nothing may be loaded from elsewhere.
	h.Set("Content-Security-Policy", "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; img-src data:")
	_, _ = w.Write(statusHTML)
}
