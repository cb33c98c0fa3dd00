package delivery

import (
	"context"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/proxy"
)

// Redelivery backoff: the first retry comes soon (an upstream blip), later ones spread out so
// a long outage costs little.
const (
	redeliverBase = 200 * time.Millisecond
	redeliverCap  = 30 * time.Second
)

// MemoryOptions configures a MemoryQueue.
type MemoryOptions struct {
	Size            int           // jobs held at most, queued or being retried
	Workers         int           // concurrent deliveries
	MaxAge          time.Duration // a job older than this is given up
	AttemptDeadline time.Duration // one delivery attempt, quick retries included
	Logger          zerolog.Logger
	// OnDone, if set, is told when a job leaves the queue delivered (true) or given up as too
	// old (false), for metrics. It runs on a worker and must not block.
	OnDone func(j Job, delivered bool)
}

// MemoryQueue is a bounded in-memory Queue with a pool of delivery workers.
type MemoryQueue struct {
	opts   MemoryOptions
	jobs   chan Job
	held   atomic.Int64 // jobs queued or in delivery; bounded by opts.Size
	ctx    context.Context
	stop   context.CancelFunc
	wg     sync.WaitGroup
	close  sync.Once
	closed atomic.Bool

	delivered atomic.Uint64
	dropped   atomic.Uint64
}

var _ Engine = (*MemoryQueue)(nil)

// NewMemoryQueue starts the workers; Close stops them.
func NewMemoryQueue(opts MemoryOptions) *MemoryQueue {
	ctx, stop := context.WithCancel(context.Background())
	q := &MemoryQueue{opts: opts, jobs: make(chan Job, opts.Size), ctx: ctx, stop: stop}
	for range opts.Workers {
		q.wg.Add(1)
		go q.work()
	}
	return q
}

// Enqueue reserves room for all the jobs first, so a fan-out is never half queued. The
// channel has room for Size jobs, so sends after a reservation never block.
func (q *MemoryQueue) Enqueue(_ context.Context, jobs ...Job) bool { // never waits
	n := int64(len(jobs))
	if q.held.Add(n) > int64(q.opts.Size) || q.closed.Load() {
		q.held.Add(-n)
		return false
	}
	for _, j := range jobs {
		q.jobs <- j
	}
	return true
}

// Start does nothing: a MemoryQueue holds its jobs' upstreams and delivers from creation.
func (q *MemoryQueue) Start(Resolver) {}

// Stats is a snapshot of the counters.
func (q *MemoryQueue) Stats() Stats {
	return Stats{Backend: "memory", Pending: q.Depth(), Delivered: q.Delivered(), DeadAdded: q.Dropped()}
}

// Depth returns the jobs held, queued or being retried.
func (q *MemoryQueue) Depth() int64 { return q.held.Load() }

// Delivered and Dropped count jobs by outcome since the queue started.
func (q *MemoryQueue) Delivered() uint64 { return q.delivered.Load() }

// Dropped counts jobs given up: too old, or still held when Close ran out of time.
func (q *MemoryQueue) Dropped() uint64 { return q.dropped.Load() }

// Close stops taking jobs and lets the workers deliver what is held until ctx ends; jobs
// still undelivered then are logged and counted as dropped. It returns how many were lost.
func (q *MemoryQueue) Close(ctx context.Context) int64 {
	var lost int64
	q.close.Do(func() {
		q.closed.Store(true)
		tick := time.NewTicker(10 * time.Millisecond)
		defer tick.Stop()
		for q.held.Load() > 0 && ctx.Err() == nil {
			select {
			case <-ctx.Done():
			case <-tick.C:
			}
		}
		q.stop()
		q.wg.Wait()
		lost = q.held.Load()
		for range len(q.jobs) {
			j := <-q.jobs
			q.opts.Logger.Error().Str("request_id", j.RequestID).Str("app", j.App).Str("command", j.Command).
				Str("upstream", j.Upstream.Name()).Msg("async callback not delivered before shutdown")
		}
		q.dropped.Add(uint64(lost))
	})
	return lost
}

func (q *MemoryQueue) work() {
	defer q.wg.Done()
	for {
		select {
		case <-q.ctx.Done():
			return
		case j := <-q.jobs:
			if q.deliver(j) {
				q.held.Add(-1)
			}
		}
	}
}

// deliver tries j until it is delivered or too old, waiting a jittered, growing backoff
// between attempts. It reports false when shutdown interrupted it, leaving j counted as held
// (Close reports it as lost).
func (q *MemoryQueue) deliver(j Job) bool {
	log := q.opts.Logger.With().Str("request_id", j.RequestID).Str("app", j.App).Str("command", j.Command).
		Str("route", j.Route).Str("upstream", j.Upstream.Name()).Logger()
	call := &proxy.Call{Body: j.Body, RawQuery: j.RawQuery, RequestID: j.RequestID, ForwardedFor: j.ForwardedFor,
		Command: j.Command, App: j.App, Headers: j.Headers, StatusOnly: j.StatusOnly}
	caller := j.Upstream.Caller(deliveryPolicy(j.RetryOn))
	for n := 0; ; n++ {
		res := caller.Forward(q.ctx, time.Now().Add(q.opts.AttemptDeadline), call)
		if res.OK() {
			q.delivered.Add(1)
			log.Debug().Int("deliveries", n+1).Msg("async callback delivered")
			q.done(j, true)
			return true
		}
		if q.ctx.Err() != nil {
			log.Error().Int("deliveries", n+1).Msg("async callback not delivered before shutdown")
			return false
		}
		age := time.Since(j.Received)
		if age >= q.opts.MaxAge {
			q.dropped.Add(1)
			log.Error().Err(res.Err).Str("reason", string(res.Reason)).Int("deliveries", n+1).
				Dur("age", age).Msg("async callback given up: older than delivery.max_age")
			q.done(j, false)
			return true
		}
		log.Warn().Err(res.Err).Str("reason", string(res.Reason)).Int("deliveries", n+1).Msg("async delivery failed; will retry")
		wait := min(redeliverWait(n), q.opts.MaxAge-age)
		select {
		case <-q.ctx.Done():
			log.Error().Int("deliveries", n+1).Msg("async callback not delivered before shutdown")
			return false
		case <-time.After(wait):
		}
	}
}

func (q *MemoryQueue) done(j Job, delivered bool) {
	if q.opts.OnDone != nil {
		q.opts.OnDone(j, delivered)
	}
}

// redeliverWait is a jittered exponential backoff in [max/2, max] for redelivery n.
func redeliverWait(n int) time.Duration {
	m := redeliverCap
	if n < 20 {
		m = min(redeliverBase<<n, redeliverCap)
	}
	return m/2 + rand.N(m/2+1)
}
