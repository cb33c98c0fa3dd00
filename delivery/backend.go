package delivery

import (
	"context"
	"time"

	"github.com/callback-router/callback-router/proxy"
)

// Queue accepts jobs for background delivery: what the callback handler sees of a backend.
type Queue interface {
	// Enqueue takes all the jobs or none, and reports which: a callback fanned out to
	// several upstreams is either queued for each of them or answered with the fallback.
	// A backend has stored them when it returns true. It gives up when ctx ends (the
	// answer to Tencent cannot wait longer); the jobs may then be stored all the same.
	Enqueue(ctx context.Context, jobs ...Job) bool
}

// Resolver finds an upstream of the running config by name, nil when the config has none
// by that name (a reload removed it).
type Resolver func(name string) *proxy.Upstream

// OnDone is told when a delivery leaves a backend: delivered, or moved to the dead letters
// (delivered false). age is counted from the callback's arrival. It runs on a delivery
// goroutine and must not block.
type OnDone func(route, upstream string, age time.Duration, delivered bool)

// Backend is a Queue that stores what it takes and delivers it: Bolt (one bbolt file, one
// router instance) or JetStream (NATS streams shared by several instances).
type Backend interface {
	Queue
	// Start begins delivering, finding upstreams through resolve and telling done (if not
	// nil) of every delivery that leaves; jobs enqueued before Start wait for it.
	Start(resolve Resolver, done OnDone)
	// Close stops taking jobs and stops delivering, waiting for attempts in flight until ctx
	// ends. What was not delivered stays stored for the next start; Close returns how many
	// deliveries that is.
	Close(ctx context.Context) int64
	// Stats is what metrics and the status page read.
	Stats() Stats
}

// Manager reads and manages the pending and dead-lettered deliveries of a backend: what
// the `queue` command and the admin listener's /queue paths do. Bolt, JetStream and a
// BoltStore opened while no router runs (OpenBoltOffline) implement it.
type Manager interface {
	Stats() Stats
	// List returns the records of a state (pending or dead) that f selects, oldest first.
	List(state string, f Filter) ([]*Record, error)
	// Replay moves the dead letters f selects back to delivery; running it twice replays
	// nothing the second time.
	Replay(f Filter) (int, error)
	// Drop deletes the records of a state that f selects.
	Drop(state string, f Filter) (int, error)
}

// Stats is a snapshot of a backend, for metrics, the status page and `queue stats`.
type Stats struct {
	Backend string `json:"backend"`
	// Pending deliveries wait or are being attempted; Dead ones were given up.
	Pending      int64 `json:"pending"`
	PendingBytes int64 `json:"pending_bytes"`
	Dead         int64 `json:"dead"`
	// Oldest is the arrival time of the oldest pending delivery; zero when none.
	Oldest time.Time `json:"oldest,omitzero"`
	// Counters since start.
	Delivered uint64 `json:"delivered"`
	Failed    uint64 `json:"failed_attempts"`
	DeadAdded uint64 `json:"dead_lettered"`
	Refused   uint64 `json:"refused_full"`
	Errors    uint64 `json:"store_errors"`
}
