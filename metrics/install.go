package metrics

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// Install tells the metrics which table is now routing callbacks: the series of routes and
// upstreams it no longer has are removed, so that label values stay bounded by the config
// however often it is reloaded. Call it after every swap (and for the first table).
func (m *Metrics) Install(t *router.Table) {
	routes := map[string]bool{routeNone: true, t.NoRoute.Name: true}
	for _, r := range t.Routes {
		routes[r.Name] = true
	}
	apps := map[string]*router.App{server.AppNone: nil}
	for _, a := range t.Apps {
		apps[a.Name] = a
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
	for k := range m.routes {
		if !routes[k.route] {
			delete(m.routes, k)
			m.deleteSeries(prometheus.Labels{"route": k.route}, m.callbacks, m.fallbacks)
			m.duration.DeletePartialMatch(prometheus.Labels{"route": k.route})
		}
		if _, ok := apps[k.app]; !ok {
			delete(m.routes, k)
			m.deleteSeries(prometheus.Labels{"app": k.app}, m.callbacks, m.fallbacks, m.rejections)
			m.duration.DeletePartialMatch(prometheus.Labels{"app": k.app})
		}
	}
	for k := range m.rejects {
		if _, ok := apps[k.app]; !ok {
			delete(m.rejects, k)
			m.rejections.DeletePartialMatch(prometheus.Labels{"app": k.app})
		}
	}
	m.installTokenSlots(t.Apps)
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

// installTokenSlots gives every token slot of every app its sign_verified_total series,
// from 0, so that a token never used shows as such. A slot whose token changed starts again
// from 0 (its count was another token's), and the series of slots and apps gone are removed.
// Runs under m.mu.
func (m *Metrics) installTokenSlots(apps []*router.App) {
	signs := make(map[string][]prometheus.Counter, len(apps))
	current := make(map[string]*router.App, len(apps))
	for _, a := range apps {
		prev, old := m.apps[a.Name], m.signs[a.Name]
		slots := make([]prometheus.Counter, len(a.Tokens))
		for i := range a.Tokens {
			if i < len(old) && prev != nil && i < len(prev.Tokens) && prev.Tokens[i] == a.Tokens[i] {
				slots[i] = old[i]
				continue
			}
			if i < len(old) {
				m.signVerified.DeleteLabelValues(a.Name, a.TokenLabels[i])
			}
			slots[i] = m.signVerified.WithLabelValues(a.Name, a.TokenLabels[i])
		}
		for i := len(a.Tokens); i < len(old); i++ {
			m.signVerified.DeleteLabelValues(a.Name, strconv.Itoa(i))
		}
		signs[a.Name], current[a.Name] = slots, a
	}
	for name := range m.signs {
		if _, ok := signs[name]; !ok {
			m.signVerified.DeletePartialMatch(prometheus.Labels{"app": name})
		}
	}
	m.signs, m.apps = signs, current
}

func (m *Metrics) deleteSeries(l prometheus.Labels, vecs ...*prometheus.CounterVec) {
	for _, v := range vecs {
		v.DeletePartialMatch(l)
	}
}
