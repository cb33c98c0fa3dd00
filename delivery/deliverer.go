package delivery

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/tracing"
)

// Options is how a backend delivers what it holds, the same for Bolt and JetStream: the
// delivery.* settings of the config.
type Options struct {
	Workers         int
	MaxAge          time.Duration // from arrival (or replay); older records are dead-lettered
	AttemptDeadline time.Duration // one delivery, its quick retry included
	Backoff         Backoff
	Logger          zerolog.Logger
	// Tracer, if set, traces every delivery in a span linked to the callback that queued it.
	Tracer *tracing.Tracer
}

// An outcome is what a backend does with a record after a delivery attempt.
type outcome int

const (
	ack   outcome = iota // delivered: remove it
	retry                // failed: deliver it again at its NextAt
	bury                 // failed, and older than delivery.max_age: move it to the dead letters
	leave                // cut short by shutdown: it stays pending for the next start
)

// deliverer is the half both backends share: it makes a delivery attempt, decides what
// becomes of the record (ack, retry at a time, bury), tells and counts. The backend then
// does what was decided with its own store.
type deliverer struct {
	opts    Options
	log     zerolog.Logger
	resolve Resolver
	done    OnDone
	// started is set by Start, closed by Close: each runs once.
	started, closed atomic.Bool

	delivered, failed, deadAdded, refused, errs atomic.Uint64
}

// init takes a backend's options, refusing those it cannot deliver with.
func (d *deliverer) init(opts Options) error {
	if err := opts.Backoff.check(); err != nil {
		return err
	}
	d.opts, d.log = opts, opts.Logger
	return nil
}

// start takes what Start is given, before any delivery begins; it reports false when the
// backend was started already.
func (d *deliverer) start(resolve Resolver, done OnDone) bool {
	if d.started.Swap(true) {
		return false
	}
	d.resolve, d.done = resolve, done
	return true
}

// attempt delivers rec (with its body) once, its quick retry included, and decides what
// becomes of it; a failure is recorded in rec (see fail). It leaves rec pending when ctx
// ends meanwhile: the backend is shutting down, and the attempt may have been cut.
func (d *deliverer) attempt(ctx context.Context, rec *Record) outcome {
	var cause error
	if up := d.resolve(rec.Upstream); up == nil {
		cause = fmt.Errorf("upstream %q is not in the running config", rec.Upstream)
	} else {
		res := deliver(ctx, d.opts.Tracer, up, time.Now().Add(d.opts.AttemptDeadline), rec)
		if res.OK() {
			d.delivered.Add(1)
			d.tell(rec, true)
			return ack
		}
		cause = failure(res)
	}
	if ctx.Err() != nil {
		return leave
	}
	return d.fail(rec, cause)
}

// fail decides what follows a failed delivery of rec: another after a backoff, or the dead
// letters once rec is older than delivery.max_age (counted from its arrival or its last
// replay). It records the failure in rec: one more attempt, its error, and when to try
// next (NextAt) or when it died (DeadAt).
func (d *deliverer) fail(rec *Record, cause error) outcome {
	d.failed.Add(1)
	now := time.Now()
	rec.Attempts++
	rec.LastError = cause.Error()
	age := now.Sub(rec.since())
	if age >= d.opts.MaxAge {
		rec.DeadAt = now
		return bury
	}
	rec.NextAt = now.Add(min(d.opts.Backoff.Wait(rec.Attempts-1), d.opts.MaxAge-age))
	withRecord(d.log.Warn(), rec).Err(cause).Time("next_at", rec.NextAt).Msg("delivery failed; will retry")
	return retry
}

// buried counts, logs and tells a record the backend has moved to the dead letters.
func (d *deliverer) buried(rec *Record) {
	d.deadAdded.Add(1)
	withRecord(d.log.Error(), rec).Str("error", rec.LastError).Dur("age", rec.DeadAt.Sub(rec.since())).
		Msg("callback given up: older than delivery.max_age; moved to the dead letters")
	d.tell(rec, false)
}

// withRecord names the record on a log line; never its body or query.
func withRecord(e *zerolog.Event, r *Record) *zerolog.Event {
	return e.Uint64("id", r.Seq).Str("event_id", r.EventID).Str("request_id", r.RequestID).Str("app", r.App).
		Str("command", r.Command).Str("route", r.Route).Str("upstream", r.Upstream).Int("deliveries", r.Attempts)
}

func (d *deliverer) tell(r *Record, delivered bool) {
	if d.done != nil {
		d.done(r.Route, r.Upstream, time.Since(r.Received), delivered)
	}
}

// withCounters returns st with the counters since start filled in, for a backend's Stats.
func (d *deliverer) withCounters(st Stats) Stats {
	st.Delivered, st.Failed, st.DeadAdded = d.delivered.Load(), d.failed.Load(), d.deadAdded.Load()
	st.Refused, st.Errors = d.refused.Load(), d.errs.Load()
	return st
}

// waitOrCut is a backend's shutdown wait: it waits for the attempts in flight (inFlight)
// to finish until ctx ends, then cuts them (they stay pending) and waits for them to return.
func waitOrCut(ctx context.Context, inFlight *sync.WaitGroup, cut context.CancelFunc) {
	finished := make(chan struct{})
	go func() { inFlight.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-ctx.Done():
		cut()
		<-finished
	}
}
