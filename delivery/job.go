package delivery

import (
	"context"
	"time"

	"github.com/callback-router/callback-router/proxy"
)

// Job is one callback to deliver to one upstream.
type Job struct {
	Upstream *proxy.Upstream
	Route    string
	// App is the name of the callback's app; Command its CallbackCommand (or TRTC name).
	App       string
	Command   string
	Body      []byte // owned by the job: the caller passes a copy
	RawQuery  string
	RequestID string
	// ForwardedFor is passed on as X-Forwarded-For.
	ForwardedFor string
	// Headers are the callback's own headers passed on (a TRTC event's SdkAppId and Sign)
	// and the router's naming ones (X-Callback-Command, X-Callback-App).
	Headers []proxy.Header
	// StatusOnly accepts any 200 from the upstream (TRTC's events), not only Tencent's
	// envelope.
	StatusOnly bool
	RetryOn    []int
	Received   time.Time
	// EventID identifies the callback across retries, restarts and instances; it is sent as
	// X-Callback-Event-Id (see EventID). Durable engines need it; MemoryQueue ignores it.
	EventID string
	// OrderKey, when set, is the room whose callbacks reach this upstream one at a time, in
	// arrival order.
	OrderKey string
	// Verdict, when set, makes the job a journal entry: the router answered Tencent with this
	// fallback verdict (allow or deny) for Reason, and tells the upstream so.
	Verdict string
	Reason  string
	// TraceParent is the traceparent of the callback that queued the job, "" when it was
	// not traced: the delivery's span links to it.
	TraceParent string
}

// Queue accepts jobs for background delivery.
type Queue interface {
	// Enqueue takes all the jobs or none, and reports which: a callback fanned out to
	// several upstreams is either queued for each of them or answered with the fallback.
	// A durable queue has stored them when it returns true. It gives up when ctx ends (the
	// answer to Tencent cannot wait longer); the jobs may then be stored all the same.
	Enqueue(ctx context.Context, jobs ...Job) bool
}

// Resolver finds an upstream of the running config by name, nil when the config has none
// by that name (a reload removed it).
type Resolver func(name string) *proxy.Upstream

// Engine is a Queue that delivers what it holds: the durable backends implement it.
type Engine interface {
	Queue
	// Start begins delivering, finding upstreams through resolve; jobs enqueued before
	// Start wait for it.
	Start(resolve Resolver)
	// Close stops taking jobs and stops delivering, waiting for attempts in flight until ctx
	// ends. A durable engine keeps what was not delivered for the next start; it returns how
	// many callbacks are left waiting.
	Close(ctx context.Context) int64
	Counts
}

// Counts are what metrics and the status page read from a queue.
type Counts interface {
	// Depth is the number of deliveries waiting (dead letters aside).
	Depth() int64
	// Delivered and Dropped count deliveries since start: delivered, or given up (moved to
	// the dead letters).
	Delivered() uint64
	Dropped() uint64
	// Stats is a fuller snapshot.
	Stats() Stats
}

// Stats is a snapshot of a queue, for metrics, the status page and `queue stats`.
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
