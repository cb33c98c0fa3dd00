package metrics

// Reloaded counts a reload attempt: installed (ok) or refused. Call Install as well when a
// table was installed.
func (m *Metrics) Reloaded(ok bool) {
	if ok {
		m.reloads.Inc()
		m.lastReloadOK.Set(1)
		return
	}
	m.reloadFailures.Inc()
	m.lastReloadOK.Set(0)
}
