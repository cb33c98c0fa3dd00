// Package lazymap finds an entry of a read-mostly map guarded by a sync.RWMutex, creating it
// on first use. Metrics and the live statistics keep their per-route and per-upstream state
// this way: after a key's first callback every lookup takes only the read lock.
package lazymap

import "sync"

// Get returns m[k]. The first time k is asked for it stores and returns create(), under the
// write lock and checked again there, so two first callers agree on one value.
func Get[K comparable, V any](mu *sync.RWMutex, m map[K]V, k K, create func() V) V {
	mu.RLock()
	v, ok := m[k]
	mu.RUnlock()
	if ok {
		return v
	}
	mu.Lock()
	defer mu.Unlock()
	if v, ok = m[k]; !ok {
		v = create()
		m[k] = v
	}
	return v
}
