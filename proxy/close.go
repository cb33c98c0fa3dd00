package proxy

// CloseIdleConnections closes the idle keep-alive connections of every instance. A reload
// calls it on an upstream the new config no longer has (or has changed), so its pooled
// connections do not linger until they time out. Calls still in flight on the upstream
// finish normally: only idle connections are closed, and a later call dials anew. (A
// pipelining instance's connections close themselves once idle for maxIdleConnDuration.)
func (u *Upstream) CloseIdleConnections() {
	for _, inst := range u.instances {
		if inst.closeIdle != nil {
			inst.closeIdle()
		}
	}
}
