package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/router"
)

// Install tells the metrics which table is now routing callbacks: the series of routes and
// upstreams it no longer has are removed, so that label values stay bounded by the config
// however often it is reloaded. Call it after every swap (and for the first table).
func (m *Metrics) Install(t *router.Table) {
	routes := map[string]bool{routeNone: true, t.NoRoute.Name: true}
	for _, r := range t.Routes {
		routes[r.Name] = true
	}
	instances := map[instanceKey]bool{}
	for name, up := range t.Upstreams {
		for _, s := range up.States() { // outside m.mu: State() may run BreakerChanged
			instances[instanceKey{name, s.URL}] = true
		}
	}

	m.mu.Lock()
	defer m.mu.Unlock()
	m.instances = instances
	for name := range m.routes {
		if !routes[name] {
			delete(m.routes, name)
			m.deleteSeries(prometheus.Labels{"route": name}, m.callbacks, m.fallbacks)
			m.duration.DeletePartialMatch(prometheus.Labels{"route": name})
		}
	}
	// Shadow series are not cached per route: drop those of every route that no longer
	// shadows (renamed, removed, or its shadow taken out).
	shadowed := map[string]bool{}
	for _, r := range t.Routes {
		shadowed[r.Name] = r.Shadow != nil
	}
	for _, name := range m.shadowedRoutes() {
		if !shadowed[name] {
			m.deleteSeries(prometheus.Labels{"route": name}, m.shadow.results)
			m.shadow.duration.DeletePartialMatch(prometheus.Labels{"route": name})
			m.shadow.routes.Delete(name)
		}
	}
	for name := range m.upstreams {
		if _, ok := t.Upstreams[name]; !ok {
			delete(m.upstreams, name)
			m.deleteSeries(prometheus.Labels{"upstream": name}, m.attempts, m.retries, m.responses, m.queryDropped, m.breakerTransitions)
		}
	}
}

func (m *Metrics) deleteSeries(l prometheus.Labels, vecs ...*prometheus.CounterVec) {
	for _, v := range vecs {
		v.DeletePartialMatch(l)
	}
}
