package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/internal/lazymap"
	"github.com/callback-router/callback-router/server"
)

// routeKey names the series of one route for one app.
type routeKey struct{ app, route string }

// rejectKey names the rejection counter of one app and code.
type rejectKey struct{ app, code string }

// routeSet caches a route's label children for one app. Counters are resolved on first use, so a route
// exports series only for the commands and decisions it has seen.
type routeSet struct {
	duration  prometheus.Observer
	mu        sync.RWMutex
	callbacks []prometheus.Counter // [commandID*len(decisions)+decisionID]
	fallbacks []prometheus.Counter // [reasonID]
}

// upstreamSet caches an upstream's label children.
type upstreamSet struct {
	attempts     prometheus.Counter
	retries      prometheus.Counter
	queryDropped prometheus.Counter
	mu           sync.RWMutex
	responses    map[int]prometheus.Counter // by status; 0 for none
}

// Observe records one answered callback. It is server.Observer's method and runs on the
// request path.
func (m *Metrics) Observe(ev server.Event) {
	k := routeKey{app: ev.App, route: ev.Route}
	if k.app == "" {
		k.app = server.AppNone
	}
	if k.route == "" {
		k.route = routeNone
	}
	if ev.Verified {
		if c := m.signVerifiedCounter(k.app, ev.TokenSlot); c != nil {
			c.Inc()
		}
	}
	rs := m.route(k)
	rs.callback(m, k, commandID(ev.Command), decisionID(ev.Decision)).Inc()
	if ev.Decision == server.DecisionRejected {
		m.rejection(k.app, ev.RejectCode).Inc()
		return
	}
	rs.duration.Observe(ev.Latency.Seconds())
	if ev.Reason != "" {
		rs.fallback(m, k, reasonID(ev.Reason)).Inc()
	}
	if ev.Upstream != "" && ev.Attempts > 0 {
		us := m.upstream(ev.Upstream)
		us.attempts.Add(float64(ev.Attempts))
		if ev.Attempts > 1 {
			us.retries.Add(float64(ev.Attempts - 1))
		}
		us.response(m, ev.Upstream, ev.UpstreamStatus).Inc()
	}
}

// Delivered records an async callback leaving the queue. It is server.DeliveryObserver's
// method.
func (m *Metrics) Delivered(_, _ string, age time.Duration, ok bool) {
	result := "delivered"
	if !ok {
		result = "dropped"
	}
	m.asyncAge.WithLabelValues(result).Observe(age.Seconds())
}

// route returns the cached children of a route for an app, creating them on its first
// callback.
func (m *Metrics) route(k routeKey) *routeSet {
	return lazymap.Get(&m.mu, m.routes, k, func() *routeSet {
		return &routeSet{
			duration:  m.duration.WithLabelValues(k.app, k.route),
			callbacks: make([]prometheus.Counter, len(commands)*len(decisions)),
			fallbacks: make([]prometheus.Counter, len(reasons)),
		}
	})
}

func (rs *routeSet) callback(m *Metrics, k routeKey, cmd, decision int) prometheus.Counter {
	i := cmd*len(decisions) + decision
	return lazy(&rs.mu, rs.callbacks, i, func() prometheus.Counter {
		return m.callbacks.WithLabelValues(k.app, commands[cmd], k.route, decisions[decision])
	})
}

func (rs *routeSet) fallback(m *Metrics, k routeKey, reason int) prometheus.Counter {
	return lazy(&rs.mu, rs.fallbacks, reason, func() prometheus.Counter {
		return m.fallbacks.WithLabelValues(k.app, k.route, reasons[reason])
	})
}

// signVerifiedCounter returns the counter of an app's token slot, nil for an app or a slot
// the current table does not have (a callback verified just before a reload removed it).
func (m *Metrics) signVerifiedCounter(app string, slot int) prometheus.Counter {
	m.mu.RLock()
	slots := m.signs[app]
	m.mu.RUnlock()
	if slot >= len(slots) {
		return nil
	}
	return slots[slot]
}

// lazy returns s[i], resolving it with make under mu the first time.
func lazy(mu *sync.RWMutex, s []prometheus.Counter, i int, make func() prometheus.Counter) prometheus.Counter {
	mu.RLock()
	c := s[i]
	mu.RUnlock()
	if c != nil {
		return c
	}
	mu.Lock()
	defer mu.Unlock()
	if s[i] == nil {
		s[i] = make()
	}
	return s[i]
}

// upstream returns the cached children of an upstream.
func (m *Metrics) upstream(name string) *upstreamSet {
	return lazymap.Get(&m.mu, m.upstreams, name, func() *upstreamSet {
		return &upstreamSet{
			attempts:     m.attempts.WithLabelValues(name),
			retries:      m.retries.WithLabelValues(name),
			queryDropped: m.queryDropped.WithLabelValues(name),
			responses:    map[int]prometheus.Counter{},
		}
	})
}

func (us *upstreamSet) response(m *Metrics, upstream string, status int) prometheus.Counter {
	label := statusLabel(status)
	if label == statusNone {
		status = 0
	}
	return lazymap.Get(&us.mu, us.responses, status, func() prometheus.Counter {
		return m.responses.WithLabelValues(upstream, label)
	})
}

// rejection returns the counter of a rejection code for an app; codes are the server's
// constants.
func (m *Metrics) rejection(app, code string) prometheus.Counter {
	return lazymap.Get(&m.mu, m.rejects, rejectKey{app, code}, func() prometheus.Counter {
		return m.rejections.WithLabelValues(app, code)
	})
}
