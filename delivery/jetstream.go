package delivery

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// JetStreamOptions configures a JetStream backend: its streams, and how it delivers.
type JetStreamOptions struct {
	URL         string // one or more nats:// URLs, comma-separated
	Stream      string // the work-queue stream of pending deliveries; dead letters go to Stream_DEAD
	Subject     string
	DeadSubject string
	Consumer    string // the durable consumer every router instance pulls from
	Replicas    int
	Timeout     time.Duration // connecting, and each publish acknowledgement
	MaxItems    int
	MaxBytes    int64
	Delivery    Options
}

// JetStream is the backend shared by several router instances: its deliveries wait in a
// NATS JetStream work-queue stream: each publishes the callbacks it acknowledges, and all pull from
// one durable consumer, so each delivery is attempted by one instance at a time and one
// that dies leaves its unacknowledged deliveries to the others once their ack wait passes.
// Redelivery backoff is JetStream's (a nak with a delay). Dead letters are kept in a second,
// limits-based stream so that they can be listed and replayed.
//
// Unlike Bolt it does not order deliveries by room: a shared consumer hands messages to
// several instances at once.
type JetStream struct {
	deliverer
	streams JetStreamOptions
	nc      *nats.Conn
	js      jetstream.JetStream
	work    jetstream.Stream
	dead    jetstream.Stream
	cons    jetstream.Consumer

	consume  jetstream.ConsumeContext
	sem      chan struct{} // bounds the deliveries in flight to Workers
	inFlight sync.WaitGroup
	// life orders a delivery's start against Close: none starts once closing is set.
	life       sync.RWMutex
	closing    bool
	attemptCtx context.Context
	stop       context.CancelFunc
}

var (
	_ Backend = (*JetStream)(nil)
	_ Manager = (*JetStream)(nil)
)

// OpenJetStream connects, creating the streams and the consumer if they are missing.
func OpenJetStream(opts JetStreamOptions) (*JetStream, error) {
	q := &JetStream{streams: opts, sem: make(chan struct{}, max(opts.Delivery.Workers, 1))}
	if err := q.init(opts.Delivery); err != nil {
		return nil, err
	}
	log := opts.Delivery.Logger
	nc, err := nats.Connect(opts.URL, nats.Name("callback-router"), nats.Timeout(opts.Timeout),
		nats.MaxReconnects(-1), nats.RetryOnFailedConnect(false),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			log.Warn().Err(err).Msg("disconnected from NATS; publishing waits for the reconnection")
		}))
	if err != nil {
		return nil, fmt.Errorf("delivery.jetstream.url: %w", err)
	}
	q.nc = nc
	q.attemptCtx, q.stop = context.WithCancel(context.Background())
	if err := q.setup(); err != nil {
		nc.Close()
		return nil, err
	}
	return q, nil
}

func (q *JetStream) setup() error {
	ctx, cancel := context.WithTimeout(context.Background(), q.streams.Timeout)
	defer cancel()
	js, err := jetstream.New(q.nc)
	if err != nil {
		return err
	}
	q.js = js
	o := q.streams
	q.work, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: o.Stream, Subjects: []string{o.Subject}, Retention: jetstream.WorkQueuePolicy,
		Storage: jetstream.FileStorage, Replicas: o.Replicas, Discard: jetstream.DiscardNew,
		MaxMsgs: int64(o.MaxItems), MaxBytes: o.MaxBytes, Duplicates: 2 * time.Minute,
	})
	if err != nil {
		return fmt.Errorf("delivery.jetstream.stream %s: %w", o.Stream, err)
	}
	q.dead, err = js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{
		Name: o.Stream + "_DEAD", Subjects: []string{o.DeadSubject}, Storage: jetstream.FileStorage, Replicas: o.Replicas,
	})
	if err != nil {
		return fmt.Errorf("delivery.jetstream.dead_subject %s: %w", o.DeadSubject, err)
	}
	q.cons, err = q.work.CreateOrUpdateConsumer(ctx, jetstream.ConsumerConfig{
		Durable: o.Consumer, AckPolicy: jetstream.AckExplicitPolicy, MaxDeliver: -1,
		// An instance that dies holds its deliveries this long before another gets them.
		AckWait:       max(2*o.Delivery.AttemptDeadline, time.Second),
		MaxAckPending: 64 * max(o.Delivery.Workers, 1),
	})
	if err != nil {
		return fmt.Errorf("delivery.jetstream.consumer %s: %w", o.Consumer, err)
	}
	return nil
}

// Enqueue publishes a message per job and returns true once JetStream has stored them all.
// A fan-out is not atomic here: should a later publish fail, the earlier upstreams still get
// the callback while Tencent is answered with the fallback.
func (q *JetStream) Enqueue(ctx context.Context, jobs ...Job) bool {
	if q.closed.Load() {
		return false
	}
	futures := make([]jetstream.PubAckFuture, 0, len(jobs))
	for i := range jobs {
		r := recordFromJob(&jobs[i])
		data, err := r.encode()
		if err == nil {
			var f jetstream.PubAckFuture
			f, err = q.js.PublishAsync(q.streams.Subject, data, jetstream.WithMsgID(string(r.dedupKey())), jetstream.WithExpectStream(q.streams.Stream))
			futures = append(futures, f)
		}
		if err != nil {
			return q.refuse(err)
		}
	}
	timeout := time.After(q.streams.Timeout)
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			return q.refuse(err)
		case <-timeout:
			return q.refuse(errors.New("no publish acknowledgement within delivery.jetstream.timeout"))
		case <-ctx.Done():
			return q.refuse(fmt.Errorf("no publish acknowledgement before the answer to Tencent was due: %w", ctx.Err()))
		}
	}
	return true
}

func (q *JetStream) refuse(err error) bool {
	var apiErr *jetstream.APIError
	if errors.As(err, &apiErr) && strings.Contains(apiErr.Description, "maximum") {
		q.refused.Add(1)
		return false
	}
	q.errs.Add(1)
	q.log.Error().Err(err).Msg("cannot publish a callback for delivery; answering with the fallback")
	return false
}

// Start pulls from the shared consumer and delivers with upstreams found through resolve,
// telling done of each delivery that leaves.
func (q *JetStream) Start(resolve Resolver, done OnDone) {
	if !q.start(resolve, done) {
		return
	}
	cc, err := q.cons.Consume(q.handle, jetstream.PullMaxMessages(2*cap(q.sem)),
		jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			q.log.Warn().Err(err).Msg("pulling deliveries from JetStream")
		}))
	if err != nil {
		q.log.Error().Err(err).Msg("cannot pull deliveries from JetStream; this instance only publishes")
		return
	}
	q.consume = cc
}

// handle runs a delivery on its own goroutine, waiting for a free worker slot first: the
// wait holds back the consumer's callback, so this instance stops pulling when busy.
func (q *JetStream) handle(msg jetstream.Msg) {
	select {
	case q.sem <- struct{}{}:
	case <-q.attemptCtx.Done():
		return // not acknowledged: redelivered after the ack wait, to whichever instance is up
	}
	q.life.RLock()
	if q.closing {
		q.life.RUnlock()
		<-q.sem
		return
	}
	q.inFlight.Add(1)
	q.life.RUnlock()
	go func() {
		defer func() { <-q.sem; q.inFlight.Done() }()
		q.deliverMsg(msg)
	}()
}

// deliverMsg makes one attempt of a message's delivery and does with the message what the
// attempt decided: acknowledged, redelivered after a delay, or moved to the dead letters.
func (q *JetStream) deliverMsg(msg jetstream.Msg) {
	r, err := decodeRecord(msg.Data())
	if err != nil {
		q.log.Error().Err(err).Msg("undecodable delivery in the stream; dropped")
		msg.Term()
		return
	}
	meta, err := msg.Metadata()
	if err == nil {
		r.Attempts = int(meta.NumDelivered) - 1
		r.Seq = meta.Sequence.Stream
	}
	msg.InProgress() // restart the ack wait: it may have waited for a worker
	switch q.attempt(q.attemptCtx, r) {
	case ack:
		if err := msg.Ack(); err != nil {
			q.log.Warn().Err(err).Msg("delivered, but the ack was lost: it will be delivered again")
		}
	case retry:
		msg.NakWithDelay(time.Until(r.NextAt))
	case bury:
		q.bury(msg, r)
	case leave: // shutting down: redelivered after the ack wait, to whichever instance is up
	}
}

// bury publishes the record to the dead letters, then removes it from the work queue.
func (q *JetStream) bury(msg jetstream.Msg, r *Record) {
	data, err := r.encode()
	if err == nil {
		ctx, cancel := context.WithTimeout(context.Background(), q.streams.Timeout)
		// Two instances may bury the same message (an ack lost, an ack wait passed): the id,
		// which names the work-queue message, lets the dead-letter stream keep one copy,
		// or a replay would deliver it twice.
		id := string(r.dedupKey()) + "\x00dead-" + strconv.FormatUint(r.Seq, 10)
		_, err = q.js.Publish(ctx, q.streams.DeadSubject, data, jetstream.WithMsgID(id))
		cancel()
	}
	if err != nil {
		q.log.Error().Err(err).Msg("cannot move a callback to the dead letters; it stays pending")
		msg.NakWithDelay(q.opts.Backoff.Wait(r.Attempts))
		return
	}
	msg.Ack()
	q.buried(r)
}

// Close stops pulling, lets deliveries in flight finish until ctx ends, and disconnects.
// What is pending stays in the stream for the other instances and the next start.
func (q *JetStream) Close(ctx context.Context) int64 {
	if q.closed.Swap(true) {
		return 0
	}
	q.life.Lock()
	q.closing = true
	q.life.Unlock()
	if q.consume != nil {
		q.consume.Stop()
	}
	waitOrCut(ctx, &q.inFlight, q.stop)
	q.stop()
	left := q.Stats().Pending
	q.nc.Drain()
	return left
}

// Stats reads both streams' states (shared by all instances) and this instance's counters.
func (q *JetStream) Stats() Stats {
	st := q.withCounters(Stats{Backend: "jetstream"})
	ctx, cancel := context.WithTimeout(context.Background(), q.streams.Timeout)
	defer cancel()
	if info, err := q.work.Info(ctx); err == nil {
		st.Pending, st.PendingBytes = int64(info.State.Msgs), int64(info.State.Bytes)
		if info.State.Msgs > 0 {
			st.Oldest = info.State.FirstTime
		}
	}
	if info, err := q.dead.Info(ctx); err == nil {
		st.Dead = int64(info.State.Msgs)
	}
	return st
}

// List reads the records of a state without consuming them; Seq is the stream sequence. The
// queries show the Sign masked (maskForListing).
func (q *JetStream) List(state string, f Filter) ([]*Record, error) {
	var out []*Record
	err := q.scan(state, func(r *Record) bool {
		if f.Match(r) {
			out = append(out, r.maskForListing())
		}
		return f.Limit == 0 || len(out) < f.Limit
	})
	return out, err
}

// Replay republishes the dead letters f selects to the work queue and deletes them from the
// dead letters, so that a second run finds nothing to replay.
func (q *JetStream) Replay(f Filter) (int, error) {
	var chosen []*Record
	if err := q.scan(StateDead, func(r *Record) bool {
		if f.Match(r) {
			chosen = append(chosen, r)
		}
		return true
	}); err != nil {
		return 0, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.streams.Timeout)
	defer cancel()
	n := 0
	for _, r := range chosen {
		deadSeq := r.Seq
		r.Attempts, r.DeadAt, r.NextAt, r.Replayed = 0, time.Time{}, time.Time{}, time.Now()
		data, err := r.encode()
		if err != nil {
			return n, err
		}
		id := fmt.Sprintf("%s\x00replay-%d", r.dedupKey(), deadSeq)
		if _, err := q.js.Publish(ctx, q.streams.Subject, data, jetstream.WithMsgID(id)); err != nil {
			return n, err
		}
		if err := q.dead.DeleteMsg(ctx, deadSeq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// Drop deletes the records of a state that f selects.
func (q *JetStream) Drop(state string, f Filter) (int, error) {
	var chosen []uint64
	if err := q.scan(state, func(r *Record) bool {
		if f.Match(r) {
			chosen = append(chosen, r.Seq)
		}
		return true
	}); err != nil {
		return 0, err
	}
	s := q.dead
	if state == StatePending {
		s = q.work
	}
	ctx, cancel := context.WithTimeout(context.Background(), q.streams.Timeout)
	defer cancel()
	n := 0
	for _, seq := range chosen {
		if err := s.DeleteMsg(ctx, seq); err != nil && !errors.Is(err, jetstream.ErrMsgNotFound) {
			return n, err
		}
		n++
	}
	return n, nil
}

// scan reads a stream's messages in order, by sequence, until fn returns false.
func (q *JetStream) scan(state string, fn func(*Record) bool) error {
	s := q.dead
	switch state {
	case StatePending:
		s = q.work
	case StateDead, "":
	default:
		return fmt.Errorf("state %q is not %s or %s", state, StatePending, StateDead)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*q.streams.Timeout)
	defer cancel()
	info, err := s.Info(ctx)
	if err != nil {
		return err
	}
	for seq := info.State.FirstSeq; seq > 0 && seq <= info.State.LastSeq; seq++ {
		m, err := s.GetMsg(ctx, seq)
		if errors.Is(err, jetstream.ErrMsgNotFound) {
			continue
		}
		if err != nil {
			return err
		}
		r, err := decodeRecord(m.Data)
		if err != nil {
			continue
		}
		r.Seq = seq
		if !fn(r) {
			return nil
		}
	}
	return nil
}
