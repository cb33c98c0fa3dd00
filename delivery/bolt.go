package delivery

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Bolt is the backend of a single router instance: its deliveries wait in a BoltStore, one
// bbolt file on local disk. It schedules them in memory (without their bodies) by when they
// are due, room by room where a route asks for order, and hands them to a pool of workers.
// The store is the truth: the schedule is rebuilt from it at start.
type Bolt struct {
	deliverer
	store *BoltStore

	mu    sync.Mutex
	sched *schedule

	kick chan struct{} // something may be due sooner than the dispatcher thinks
	work chan *item
	// dispatch stops the dispatcher; attempts stops the attempts in flight.
	dispatchCtx, attemptCtx    context.Context
	stopDispatch, stopAttempts context.CancelFunc
	dispatcherDone             chan struct{}
	workers                    sync.WaitGroup
}

var (
	_ Backend = (*Bolt)(nil)
	_ Manager = (*Bolt)(nil)
)

// OpenBolt opens (creating if needed) the store under store.Dir and schedules what it
// holds; Start begins delivering.
func OpenBolt(store BoltOptions, opts Options) (*Bolt, error) {
	b := &Bolt{sched: newSchedule(), kick: make(chan struct{}, 1),
		work: make(chan *item), dispatcherDone: make(chan struct{})}
	if err := b.init(opts); err != nil {
		return nil, err
	}
	b.dispatchCtx, b.stopDispatch = context.WithCancel(context.Background())
	b.attemptCtx, b.stopAttempts = context.WithCancel(context.Background())
	store.onCommit = b.added
	s, err := OpenBoltStore(store)
	if err != nil {
		return nil, err
	}
	b.store = s
	if err := s.pending(func(r *Record) { b.sched.add(r) }); err != nil {
		s.Close()
		return nil, fmt.Errorf("reading the delivery store: %w", err)
	}
	if n := s.depth(); n > 0 {
		b.log.Info().Int64("pending", n).Int64("dead", s.deadCount()).Msg("delivery store holds callbacks from before the restart; delivering them")
	}
	return b, nil
}

// added schedules what a commit appended; the store calls it in commit order.
func (b *Bolt) added(recs []*Record) {
	b.mu.Lock()
	for _, r := range recs {
		r.Body = nil // the schedule keeps no bodies; the store has them
		b.sched.add(r)
	}
	b.mu.Unlock()
	b.poke()
}

func (b *Bolt) poke() {
	select {
	case b.kick <- struct{}{}:
	default:
	}
}

// Enqueue stores a record per job, durably, before it returns true. A full store, or one
// that cannot write, refuses: the caller answers with the route's fallback.
func (b *Bolt) Enqueue(ctx context.Context, jobs ...Job) bool {
	if b.closed.Load() {
		return false
	}
	recs := make([]*Record, len(jobs))
	for i := range jobs {
		recs[i] = recordFromJob(&jobs[i])
	}
	_, err := b.store.Append(ctx, recs)
	switch {
	case err == nil:
		return true
	case errors.Is(err, ErrFull):
		b.refused.Add(1)
	case ctx.Err() != nil:
		// The store is slower than Tencent's window allows (a stalled disk): the callback's
		// own log line says it was answered from the fallback; one line each here would
		// flood the log exactly when the disk is struggling.
		b.errs.Add(1)
	default:
		b.errs.Add(1)
		b.log.Error().Err(err).Msg("cannot store a callback for delivery; answering with the fallback")
	}
	return false
}

// Start begins delivering with upstreams found through resolve, telling done of each
// delivery that leaves.
func (b *Bolt) Start(resolve Resolver, done OnDone) {
	if !b.start(resolve, done) {
		return
	}
	for range max(b.opts.Workers, 1) {
		b.workers.Add(1)
		go b.worker()
	}
	go b.dispatch()
}

// dispatch hands due records to idle workers, sleeping until the next one is due.
func (b *Bolt) dispatch() {
	defer close(b.dispatcherDone)
	defer close(b.work)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for {
		b.mu.Lock()
		it, wait := b.sched.next(time.Now())
		b.mu.Unlock()
		if it != nil {
			select {
			case b.work <- it:
				continue
			case <-b.dispatchCtx.Done():
				return // it stays in the store, pending, for the next start
			}
		}
		timer.Reset(wait)
		select {
		case <-b.dispatchCtx.Done():
			return
		case <-b.kick:
		case <-timer.C:
		}
	}
}

func (b *Bolt) worker() {
	defer b.workers.Done()
	for it := range b.work {
		b.deliverItem(it)
	}
}

// deliverItem reads a due record's body from the store, makes one attempt, and does with
// the record what the attempt decided.
func (b *Bolt) deliverItem(it *item) {
	rec, err := b.store.load(it.rec.Seq)
	switch {
	case errors.Is(err, ErrNotFound): // dropped by an operator
		b.settle(it)
	case err != nil:
		b.errs.Add(1)
		b.conclude(it, it.rec, b.fail(it.rec, err))
	default:
		b.conclude(it, rec, b.attempt(b.attemptCtx, rec))
	}
}

// conclude does with rec what its attempt decided: it is removed from the store, stored
// again with its next attempt's time, or moved to the dead letters. When the store cannot
// do it, the record stays pending and scheduled, and is attempted again after a backoff.
func (b *Bolt) conclude(it *item, rec *Record, o outcome) {
	switch o {
	case ack:
		if err := b.store.ack(rec); err != nil && !errors.Is(err, ErrNotFound) {
			// The record is still pending in the store: keep it scheduled, so it is delivered
			// again (the upstream drops the repeat by its event id) and then removed, rather
			// than sit in the store, counted in the depth, until the next start.
			b.errs.Add(1)
			b.log.Error().Err(err).Uint64("id", rec.Seq).Msg("delivered, but cannot remove it from the store: it will be delivered again")
			b.again(it, time.Now().Add(b.opts.Backoff.Wait(rec.Attempts)))
			return
		}
		b.settle(it)
	case retry:
		if err := b.store.retry(rec); err != nil && !errors.Is(err, ErrNotFound) {
			b.log.Error().Err(err).Uint64("id", rec.Seq).Msg("cannot record a failed delivery")
		}
		it.rec.Attempts = rec.Attempts // before again: another worker may take it at once
		b.again(it, rec.NextAt)
	case bury:
		if err := b.store.Bury(rec); err != nil && !errors.Is(err, ErrNotFound) {
			b.log.Error().Err(err).Uint64("id", rec.Seq).Msg("cannot move a callback to the dead letters; it stays pending")
			b.again(it, time.Now().Add(b.opts.Backoff.Wait(rec.Attempts)))
			return
		}
		b.buried(rec)
		b.settle(it)
	case leave: // shutting down: the record stays pending in the store
	}
}

func (b *Bolt) again(it *item, at time.Time) {
	b.mu.Lock()
	it.rec.NextAt = at
	b.sched.again(it)
	b.mu.Unlock()
	b.poke()
}

// settle forgets a finished item and wakes the dispatcher: the room's next record may be due.
func (b *Bolt) settle(it *item) {
	b.mu.Lock()
	b.sched.done(it)
	b.mu.Unlock()
	b.poke()
}

// Close stops taking callbacks and dispatching, lets the attempts in flight finish until
// ctx ends (then cuts them: they stay pending), and closes the store. Whatever is pending
// is delivered after the next start; it returns how much that is.
func (b *Bolt) Close(ctx context.Context) int64 {
	if b.closed.Swap(true) {
		return b.store.depth()
	}
	b.stopDispatch()
	if b.started.Load() {
		<-b.dispatcherDone
		waitOrCut(ctx, &b.workers, b.stopAttempts)
	}
	b.stopAttempts()
	left := b.store.depth()
	if err := b.store.Close(); err != nil {
		b.log.Error().Err(err).Msg("closing the delivery store")
	}
	if left > 0 {
		b.log.Info().Int64("pending", left).Msg("callbacks left pending in the delivery store; they are delivered after the next start")
	}
	return left
}

// Stats is a snapshot of the store and the counters.
func (b *Bolt) Stats() Stats { return b.withCounters(b.store.Stats()) }

// List returns records of the running store.
func (b *Bolt) List(state string, f Filter) ([]*Record, error) { return b.store.List(state, f) }

// Replay moves dead letters back to delivery (see BoltStore.Replay); the store's commit
// schedules them.
func (b *Bolt) Replay(f Filter) (int, error) { return b.store.Replay(f) }

// Drop deletes records of the running store; a pending one being attempted now may still
// be delivered once.
func (b *Bolt) Drop(state string, f Filter) (int, error) { return b.store.Drop(state, f) }
