package metrics

import (
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/server"
)

// routeSet caches a route's label children. Counters are resolved on first use, so a route
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
	route := ev.Route
	if route == "" {
		route = routeNone
	}
	rs := m.route(route)
	rs.callback(m, route, commandID(ev.Command), decisionID(ev.Decision)).Inc()
	if ev.Decision == server.DecisionRejected {
		m.rejection(ev.RejectCode).Inc()
		return
	}
	rs.duration.Observe(ev.Latency.Seconds())
	if ev.Reason != "" {
		rs.fallback(m, route, reasonID(ev.Reason)).Inc()
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

// route returns the cached children of a route, creating them on its first callback.
func (m *Metrics) route(name string) *routeSet {
	m.mu.RLock()
	rs := m.routes[name]
	m.mu.RUnlock()
	if rs != nil {
		return rs
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if rs = m.routes[name]; rs == nil {
		rs = &routeSet{
			duration:  m.duration.WithLabelValues(name),
			callbacks: make([]prometheus.Counter, len(commands)*len(decisions)),
			fallbacks: make([]prometheus.Counter, len(reasons)),
		}
		m.routes[name] = rs
	}
	return rs
}

func (rs *routeSet) callback(m *Metrics, route string, cmd, decision int) prometheus.Counter {
	i := cmd*len(decisions) + decision
	return lazy(&rs.mu, rs.callbacks, i, func() prometheus.Counter {
		return m.callbacks.WithLabelValues(commands[cmd], route, decisions[decision])
	})
}

func (rs *routeSet) fallback(m *Metrics, route string, reason int) prometheus.Counter {
	return lazy(&rs.mu, rs.fallbacks, reason, func() prometheus.Counter {
		return m.fallbacks.WithLabelValues(route, reasons[reason])
	})
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
	m.mu.RLock()
	us := m.upstreams[name]
	m.mu.RUnlock()
	if us != nil {
		return us
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if us = m.upstreams[name]; us == nil {
		us = &upstreamSet{
			attempts:     m.attempts.WithLabelValues(name),
			retries:      m.retries.WithLabelValues(name),
			queryDropped: m.queryDropped.WithLabelValues(name),
			responses:    map[int]prometheus.Counter{},
		}
		m.upstreams[name] = us
	}
	return us
}

func (us *upstreamSet) response(m *Metrics, upstream string, status int) prometheus.Counter {
	label := statusLabel(status)
	if label == statusNone {
		status = 0
	}
	us.mu.RLock()
	c := us.responses[status]
	us.mu.RUnlock()
	if c != nil {
		return c
	}
	us.mu.Lock()
	defer us.mu.Unlock()
	if c = us.responses[status]; c == nil {
		c = m.responses.WithLabelValues(upstream, label)
		us.responses[status] = c
	}
	return c
}

// rejection returns the counter of a rejection code; codes are the server's constants.
func (m *Metrics) rejection(code string) prometheus.Counter {
	m.mu.RLock()
	c := m.rejects[code]
	m.mu.RUnlock()
	if c != nil {
		return c
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if c = m.rejects[code]; c == nil {
		c = m.rejections.WithLabelValues(code)
		m.rejects[code] = c
	}
	return c
}
