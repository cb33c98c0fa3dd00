package metrics

import (
	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/proxy"
)

// instanceKey names one upstream instance's breaker.
type instanceKey struct{ upstream, instance string }

var _ proxy.StateChangeFunc = (*Metrics)(nil).BreakerChanged

// BreakerChanged counts a breaker transition. It is a proxy.StateChangeFunc, so it runs
// under the breaker's lock: it never calls back into a breaker (the state gauge is read at
// scrape time instead). Transitions of upstreams a reload retired are not counted, so their
// series do not come back after Install removed them.
func (m *Metrics) BreakerChanged(upstream, instance string, _, to gobreaker.State) {
	k := instanceKey{upstream, instance}
	m.mu.RLock()
	current := m.instances[k]
	m.mu.RUnlock()
	if !current {
		return
	}
	m.breakerTransitions.WithLabelValues(upstream, instance, to.String()).Inc()
}
