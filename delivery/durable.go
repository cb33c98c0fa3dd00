package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/tracing"
)

// Headers of a background delivery.
const (
	// HeaderEventID carries the callback's idempotency key (EventID): the same on every
	// attempt, redelivery, restart and instance.
	HeaderEventID = "X-Callback-Event-Id"
	// HeaderVerdict and HeaderReason mark a journal entry: the router answered Tencent with
	// this fallback verdict (allow or deny), for this reason (timeout, breaker_open, …).
	HeaderVerdict = "X-Callback-Fallback-Verdict"
	HeaderReason  = "X-Callback-Fallback-Reason"
	// HeaderDelivery counts the deliveries of this record, 1 for the first.
	HeaderDelivery = "X-Callback-Delivery"
)

// attemptRetries are the quick retries inside one delivery attempt, as for a sync route.
const attemptRetries = 1

// DurableOptions configures the delivery of a durable store's records.
type DurableOptions struct {
	Workers         int
	MaxAge          time.Duration // from arrival (or replay); older records are dead-lettered
	AttemptDeadline time.Duration // one delivery, its quick retry included
	Backoff         Backoff
	Logger          zerolog.Logger
	// OnDone, if set, is told when a record leaves the pending ones: delivered, or moved to
	// the dead letters. It runs on a worker and must not block.
	OnDone func(route, upstream string, age time.Duration, delivered bool)
	// Tracer, if set, traces every delivery in a span linked to the callback that queued it.
	Tracer *tracing.Tracer
}

// Durable delivers the records of a Bolt store: it schedules them in memory (without their
// bodies) by when they are due, room by room where a route asks for order, and hands them to
// a pool of workers. The store is the truth: the schedule is rebuilt from it at start.
type Durable struct {
	store *Bolt
	opts  DurableOptions
	log   zerolog.Logger

	mu    sync.Mutex
	sched *schedule

	kick    chan struct{} // something may be due sooner than the dispatcher thinks
	work    chan *item
	resolve Resolver
	started atomic.Bool
	closed  atomic.Bool
	// dispatch stops the dispatcher; attempts stops the attempts in flight.
	dispatchCtx, attemptCtx    context.Context
	stopDispatch, stopAttempts context.CancelFunc
	dispatcherDone             chan struct{}
	workers                    sync.WaitGroup

	delivered, failed, deadAdded, refused, errs atomic.Uint64
}

var _ Engine = (*Durable)(nil)

// OpenDurable opens the bbolt store under opts.Dir and schedules what it holds; Start
// begins delivering.
func OpenDurable(bopts BoltOptions, opts DurableOptions) (*Durable, error) {
	d := &Durable{opts: opts, log: opts.Logger, sched: newSchedule(), kick: make(chan struct{}, 1),
		work: make(chan *item), dispatcherDone: make(chan struct{})}
	d.dispatchCtx, d.stopDispatch = context.WithCancel(context.Background())
	d.attemptCtx, d.stopAttempts = context.WithCancel(context.Background())
	bopts.OnCommit = d.added
	s, err := OpenBolt(bopts)
	if err != nil {
		return nil, err
	}
	d.store = s
	if err := s.Pending(func(r *Record) { d.sched.add(r) }); err != nil {
		s.Close()
		return nil, fmt.Errorf("reading the delivery store: %w", err)
	}
	if n := s.Depth(); n > 0 {
		d.log.Info().Int64("pending", n).Int64("dead", s.DeadCount()).Msg("delivery store holds callbacks from before the restart; delivering them")
	}
	return d, nil
}

// Store returns the bbolt store, for the admin surface.
func (d *Durable) Store() *Bolt { return d.store }

// added schedules what a commit appended; the store calls it in commit order.
func (d *Durable) added(recs []*Record) {
	d.mu.Lock()
	for _, r := range recs {
		r.Body = nil // the schedule keeps no bodies; the store has them
		d.sched.add(r)
	}
	d.mu.Unlock()
	d.poke()
}

func (d *Durable) poke() {
	select {
	case d.kick <- struct{}{}:
	default:
	}
}

// Enqueue stores a record per job, durably, before it returns true. A full store, or one
// that cannot write, refuses: the caller answers with the route's fallback.
func (d *Durable) Enqueue(ctx context.Context, jobs ...Job) bool {
	if d.closed.Load() {
		return false
	}
	recs := make([]*Record, len(jobs))
	for i := range jobs {
		recs[i] = recordFromJob(&jobs[i])
	}
	_, err := d.store.Append(ctx, recs)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrFull):
		d.refused.Add(1)
	case ctx.Err() != nil:
		// The store is slower than Tencent's window allows (a stalled disk): the callback's
		// own log line says it was answered from the fallback; one line each here would
		// flood the log exactly when the disk is struggling.
		d.errs.Add(1)
	default:
		d.errs.Add(1)
		d.log.Error().Err(err).Msg("cannot store a callback for delivery; answering with the fallback")
	}
	return false
}

// Replay moves dead letters back to delivery (see Bolt.Replay) and schedules them.
func (d *Durable) Replay(f Filter) (int, error) {
	recs, err := d.store.Replay(f, time.Now())
	return len(recs), err
}

// Start begins delivering with upstreams found through resolve.
func (d *Durable) Start(resolve Resolver) {
	if d.started.Swap(true) {
		return
	}
	d.resolve = resolve
	for range max(d.opts.Workers, 1) {
		d.workers.Add(1)
		go d.worker()
	}
	go d.dispatch()
}

// dispatch hands due records to idle workers, sleeping until the next one is due.
func (d *Durable) dispatch() {
	defer close(d.dispatcherDone)
	defer close(d.work)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		d.mu.Lock()
		it, wait := d.sched.next(time.Now())
		d.mu.Unlock()
		if it != nil {
			select {
			case d.work <- it:
				continue
			case <-d.dispatchCtx.Done():
				return // it stays in the store, pending, for the next start
			}
		}
		timer.Reset(wait)
		select {
		case <-d.dispatchCtx.Done():
			return
		case <-d.kick:
		case <-timer.C:
		}
	}
}

func (d *Durable) worker() {
	defer d.workers.Done()
	for it := range d.work {
		d.attempt(it)
	}
}

// attempt delivers one record once (with one quick retry) and settles it: acknowledged,
// scheduled again after a backoff, or dead-lettered when too old.
func (d *Durable) attempt(it *item) {
	rec, err := d.store.Load(it.rec.Seq)
	switch {
	case errors.Is(err, ErrNotFound): // dropped by an operator
		d.settle(it)
		return
	case err != nil:
		d.errs.Add(1)
		d.retryLater(it, it.rec, err)
		return
	}
	up := d.resolve(rec.Upstream)
	if up == nil {
		d.retryLater(it, rec, fmt.Errorf("upstream %q is not in the running config", rec.Upstream))
		return
	}
	res := deliver(d.attemptCtx, d.opts.Tracer, up, time.Now().Add(d.opts.AttemptDeadline), rec)
	if res.OK() {
		d.delivered.Add(1)
		d.done(rec, true)
		if err := d.store.Ack(rec); err != nil && !errors.Is(err, ErrNotFound) {
			// The record is still pending in the store: keep it scheduled, so it is delivered
			// again (the upstream drops the repeat by its event id) and then removed, rather
			// than sit in the store, counted in the depth, until the next start.
			d.errs.Add(1)
			d.log.Error().Err(err).Uint64("id", rec.Seq).Msg("delivered, but cannot remove it from the store: it will be delivered again")
			d.again(it, time.Now().Add(d.opts.Backoff.Wait(rec.Attempts)))
			return
		}
		d.settle(it)
		return
	}
	if d.attemptCtx.Err() != nil {
		return // shutting down: the record stays pending in the store
	}
	d.retryLater(it, rec, failure(res))
}

// failure describes a failed delivery for the log and `queue list`.
func failure(res proxy.Result) error {
	err := res.Err
	if err == nil {
		err = errors.New("failed")
	}
	if res.Status != 0 {
		return fmt.Errorf("%s, status %d: %w", res.Reason, res.Status, err)
	}
	return fmt.Errorf("%s: %w", res.Reason, err)
}

// deliver makes one delivery of a record, whichever store holds it. Traced, it runs in a
// span of its own (a delivery may come hours after its callback) linked to the callback
// that queued it, and the upstream gets that span in traceparent.
func deliver(ctx context.Context, tr *tracing.Tracer, up *proxy.Upstream, deadline time.Time, r *Record) proxy.Result {
	caller := up.Caller(deliveryPolicy(r.RetryOn))
	if tr == nil {
		return caller.Forward(ctx, deadline, deliveryCall(r))
	}
	ctx, span := tr.StartDelivery(ctx, r.TraceParent, r.Upstream, r.EventID, r.Attempts+1)
	res := caller.Forward(ctx, deadline, deliveryCall(r))
	var err error
	if !res.OK() {
		err = failure(res)
	}
	tracing.EndDelivery(span, err)
	return res
}

// deliveryCall builds the upstream call for a record, whichever store holds it.
func deliveryCall(r *Record) *proxy.Call {
	h := make([]proxy.Header, 0, 4+len(r.Headers))
	h = append(h, proxy.Header{Name: HeaderEventID, Value: r.EventID}, proxy.Header{Name: HeaderDelivery, Value: fmt.Sprint(r.Attempts + 1)})
	if r.Verdict != "" {
		h = append(h, proxy.Header{Name: HeaderVerdict, Value: r.Verdict}, proxy.Header{Name: HeaderReason, Value: r.Reason})
	}
	h = append(h, r.Headers...)
	return &proxy.Call{Body: r.Body, RawQuery: r.RawQuery, RequestID: r.RequestID, ForwardedFor: r.ForwardedFor,
		Command: r.Command, App: r.App, Headers: h, StatusOnly: r.StatusOnly}
}

// deliveryPolicy is how one delivery attempt calls the upstream: a quick retry inside the
// attempt, on the statuses the route listed when the callback was queued. The upstream
// keeps one Caller per policy, so this builds nothing after the first delivery.
func deliveryPolicy(retryOn []int) proxy.Policy {
	return proxy.Policy{Retries: attemptRetries, RetryOn: retryOn}
}

// retryLater counts a failed delivery and schedules the next, or dead-letters the record
// when max_age has passed.
func (d *Durable) retryLater(it *item, rec *Record, cause error) {
	d.failed.Add(1)
	now := time.Now()
	rec.Attempts++
	rec.LastError = cause.Error()
	age := now.Sub(rec.since())
	log := d.log.With().Uint64("id", rec.Seq).Str("event_id", rec.EventID).Str("request_id", rec.RequestID).
		Str("app", rec.App).Str("command", rec.Command).Str("route", rec.Route).Str("upstream", rec.Upstream).
		Int("deliveries", rec.Attempts).Logger()
	if age >= d.opts.MaxAge {
		rec.DeadAt = now
		if err := d.store.Bury(rec); err != nil && !errors.Is(err, ErrNotFound) {
			d.log.Error().Err(err).Uint64("id", rec.Seq).Msg("cannot move a callback to the dead letters; it stays pending")
			d.again(it, now.Add(d.opts.Backoff.Wait(rec.Attempts)))
			return
		}
		d.deadAdded.Add(1)
		log.Error().Err(cause).Dur("age", age).Msg("callback given up: older than delivery.max_age; moved to the dead letters")
		d.done(rec, false)
		d.settle(it)
		return
	}
	rec.NextAt = now.Add(min(d.opts.Backoff.Wait(rec.Attempts-1), d.opts.MaxAge-age))
	log.Warn().Err(cause).Time("next_at", rec.NextAt).Msg("delivery failed; will retry")
	if err := d.store.Retry(rec); err != nil && !errors.Is(err, ErrNotFound) {
		d.log.Error().Err(err).Uint64("id", rec.Seq).Msg("cannot record a failed delivery")
	}
	it.rec.Attempts = rec.Attempts // before again: another worker may take it at once
	d.again(it, rec.NextAt)
}

func (d *Durable) again(it *item, at time.Time) {
	d.mu.Lock()
	it.rec.NextAt = at
	d.sched.again(it)
	d.mu.Unlock()
	d.poke()
}

// settle forgets a finished item and wakes the dispatcher: the room's next record may be due.
func (d *Durable) settle(it *item) {
	d.mu.Lock()
	d.sched.done(it)
	d.mu.Unlock()
	d.poke()
}

func (d *Durable) done(r *Record, delivered bool) {
	if d.opts.OnDone != nil {
		d.opts.OnDone(r.Route, r.Upstream, time.Since(r.Received), delivered)
	}
}

// Close stops taking callbacks and dispatching, lets the attempts in flight finish until
// ctx ends (then cuts them: they stay pending), and closes the store. Whatever is pending
// is delivered after the next start; it returns how much that is.
func (d *Durable) Close(ctx context.Context) int64 {
	if d.closed.Swap(true) {
		return d.store.Depth()
	}
	d.stopDispatch()
	if d.started.Load() {
		<-d.dispatcherDone
		finished := make(chan struct{})
		go func() { d.workers.Wait(); close(finished) }()
		select {
		case <-finished:
		case <-ctx.Done():
			d.stopAttempts()
			<-finished
		}
	}
	d.stopAttempts()
	left := d.store.Depth()
	if err := d.store.Close(); err != nil {
		d.log.Error().Err(err).Msg("closing the delivery store")
	}
	if left > 0 {
		d.log.Info().Int64("pending", left).Msg("callbacks left pending in the delivery store; they are delivered after the next start")
	}
	return left
}

// Depth is the number of pending deliveries.
func (d *Durable) Depth() int64 { return d.store.Depth() }

// Delivered counts deliveries since start.
func (d *Durable) Delivered() uint64 { return d.delivered.Load() }

// Dropped counts records moved to the dead letters since start.
func (d *Durable) Dropped() uint64 { return d.deadAdded.Load() }

// Stats is a snapshot of the store and the counters.
func (d *Durable) Stats() Stats {
	return Stats{
		Backend: "bbolt", Pending: d.store.Depth(), PendingBytes: d.store.PendingBytes(),
		Dead: d.store.DeadCount(), Oldest: d.store.Oldest(),
		Delivered: d.delivered.Load(), Failed: d.failed.Load(), DeadAdded: d.deadAdded.Load(),
		Refused: d.refused.Load(), Errors: d.errs.Load(),
	}
}
