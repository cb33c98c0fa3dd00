package stats

import (
	"sync"
	"time"
)

// Fallback is one callback the router answered itself, as the status page lists it.
type Fallback struct {
	Time      time.Time `json:"time"`
	RequestID string    `json:"request_id"`
	App       string    `json:"app"`
	Command   string    `json:"command"`
	Route     string    `json:"route"`
	Upstream  string    `json:"upstream"`
	Reason    string    `json:"reason"`
	Decision  string    `json:"decision"`
	// UpstreamStatus is the upstream's last HTTP status, 0 when none came back.
	UpstreamStatus int     `json:"upstream_status"`
	Attempts       int     `json:"attempts"`
	LatencyMs      float64 `json:"latency_ms"`
}

// Transition is one breaker state change.
type Transition struct {
	Time     time.Time `json:"time"`
	Upstream string    `json:"upstream"`
	Instance string    `json:"instance"`
	From     string    `json:"from"`
	To       string    `json:"to"`
}

// ring keeps the last len(items) values; the oldest is overwritten.
type ring[T any] struct {
	mu    sync.Mutex
	items []T
	next  int  // where the next value goes
	full  bool // every slot holds a value
}

func newRing[T any](n int) *ring[T] { return &ring[T]{items: make([]T, n)} }

func (r *ring[T]) add(v T) {
	r.mu.Lock()
	r.items[r.next] = v
	r.next = (r.next + 1) % len(r.items)
	if r.next == 0 {
		r.full = true
	}
	r.mu.Unlock()
}

// newestFirst returns a copy of the values, the newest first.
func (r *ring[T]) newestFirst() []T {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := r.next
	if r.full {
		n = len(r.items)
	}
	out := make([]T, 0, n)
	for i := 1; i <= n; i++ {
		out = append(out, r.items[(r.next-i+len(r.items))%len(r.items)])
	}
	return out
}
