package metrics

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/server"
)

// shadowMetrics count mirrored callbacks by how they compared, and time the candidates.
type shadowMetrics struct {
	results  *prometheus.CounterVec   // route, result
	duration *prometheus.HistogramVec // route
	// routes holds the names of the routes with series, for Install to remove.
	routes *sync.Map
}

func newShadowMetrics() shadowMetrics {
	return shadowMetrics{
		results: prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "shadow_total",
			Help: "Callbacks mirrored to a route's shadow upstream, by how the candidate's answer compared with Tencent's: agree, verdict (another ErrorCode), rewrite (another message), shadow_failed, primary_failed (Tencent got a fallback, the candidate answered), skipped (over max_in_flight)."},
			[]string{"route", "result"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "shadow_duration_seconds",
			Help: "Time from a mirrored callback's arrival to the candidate's answer (or failure), by route.", Buckets: latencyBuckets},
			[]string{"route"}),
		routes: &sync.Map{},
	}
}

var _ server.ShadowObserver = (*Metrics)(nil)

// Shadowed records a mirrored callback. It is server.ShadowObserver's method; it runs on the
// mirror's goroutine, so a label lookup per call costs the request path nothing.
func (m *Metrics) Shadowed(ev server.ShadowEvent) {
	m.shadow.routes.Store(ev.Route, true)
	m.shadow.results.WithLabelValues(ev.Route, string(ev.Result)).Inc()
	if ev.Duration > 0 {
		m.shadow.duration.WithLabelValues(ev.Route).Observe(ev.Duration.Seconds())
	}
}

// shadowedRoutes returns the routes that have recorded a mirrored callback.
func (m *Metrics) shadowedRoutes() []string {
	var out []string
	m.shadow.routes.Range(func(k, _ any) bool {
		out = append(out, k.(string))
		return true
	})
	return out
}
