package metrics

import "github.com/callback-router/callback-router/proxy"

var _ proxy.QueryDropFunc = (*Metrics)(nil).QueryParamDropped

// QueryParamDropped counts an incoming query parameter the upstream URL's own parameter
// shadowed. It is a proxy.QueryDropFunc; the parameter's name is not a label, since the
// incoming query is the caller's to choose.
func (m *Metrics) QueryParamDropped(upstream, _, _ string) {
	m.upstream(upstream).queryDropped.Inc()
}
