package tracing

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// handEvery is how often the queued spans are handed to the batcher. Handing them over in
// bursts, rather than waking a goroutine for every span that ends, keeps a traced callback
// from paying for goroutine wake-ups on a busy machine.
const handEvery = 100 * time.Millisecond

// boundedQueue is the span processor every span ends in. It keeps sampled spans in a buffer
// of fixed size, which its own goroutine hands to the batcher (next) every handEvery or when
// it is half full, and drops — counting — what does not fit: a span ending on a callback's
// path takes a short lock and never waits for the collector.
type boundedQueue struct {
	next    sdktrace.SpanProcessor
	size    int
	mu      sync.Mutex
	buf     []sdktrace.ReadOnlySpan // filled by OnEnd
	spare   []sdktrace.ReadOnlySpan // the buffer being handed over
	dropped atomic.Uint64
	wake    chan struct{} // buffer half full
	flushes chan chan struct{}
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
}

var _ sdktrace.SpanProcessor = (*boundedQueue)(nil)

func newBoundedQueue(size int, next sdktrace.SpanProcessor) *boundedQueue {
	q := &boundedQueue{next: next, size: size,
		buf: make([]sdktrace.ReadOnlySpan, 0, size), spare: make([]sdktrace.ReadOnlySpan, 0, size),
		wake: make(chan struct{}, 1), flushes: make(chan chan struct{}),
		stop: make(chan struct{}), done: make(chan struct{})}
	go q.forward()
	return q
}

// OnStart does nothing: spans are only exported once ended.
func (*boundedQueue) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or drops it when the buffer is full.
func (q *boundedQueue) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	q.mu.Lock()
	if len(q.buf) >= q.size {
		q.mu.Unlock()
		q.dropped.Add(1)
		return
	}
	q.buf = append(q.buf, s)
	n := len(q.buf)
	q.mu.Unlock()
	if n == q.size/2 {
		select {
		case q.wake <- struct{}{}:
		default:
		}
	}
}

// forward hands the buffer to the batcher, which may block while an export is slow: only
// this goroutine waits then, and OnEnd drops once the buffer is full.
func (q *boundedQueue) forward() {
	defer close(q.done)
	tick := time.NewTicker(handEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			q.hand()
		case <-q.wake:
			q.hand()
		case ack := <-q.flushes:
			q.hand()
			close(ack)
		case <-q.stop:
			q.hand()
			return
		}
	}
}

// hand swaps the buffers and hands over what was queued.
func (q *boundedQueue) hand() {
	q.mu.Lock()
	batch := q.buf
	q.buf, q.spare = q.spare[:0], batch
	q.mu.Unlock()
	for i, s := range batch {
		q.next.OnEnd(s)
		batch[i] = nil // let the span go once handed over
	}
}

// ForceFlush hands over what is queued and exports it, within ctx.
func (q *boundedQueue) ForceFlush(ctx context.Context) error {
	ack := make(chan struct{})
	select {
	case q.flushes <- ack:
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	select {
	case <-ack:
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return q.next.ForceFlush(ctx)
}

// Shutdown stops queueing, hands over what is queued and shuts the batcher down, within
// ctx. Spans ended afterwards are dropped.
func (q *boundedQueue) Shutdown(ctx context.Context) error {
	q.once.Do(func() { close(q.stop) })
	select {
	case <-q.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	return q.next.Shutdown(ctx)
}

// countingExporter counts the spans the collector took and those it did not.
type countingExporter struct {
	sdktrace.SpanExporter
	exported, failed atomic.Uint64
}

func (e *countingExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	err := e.SpanExporter.ExportSpans(ctx, spans)
	if err != nil {
		e.failed.Add(uint64(len(spans)))
	} else {
		e.exported.Add(uint64(len(spans)))
	}
	return err
}

// errorEvery spaces the reports of export errors: a collector that is down fails every
// batch, and one line a minute says so as well as a thousand.
const errorEvery = time.Minute

// throttledErrors is the OpenTelemetry error handler: it reports an error at most once per
// errorEvery.
type throttledErrors struct {
	report func(error)
	last   atomic.Int64 // unix nanoseconds of the last report
}

func (h *throttledErrors) Handle(err error) {
	now := time.Now().UnixNano()
	last := h.last.Load()
	if now-last < int64(errorEvery) || !h.last.CompareAndSwap(last, now) {
		return
	}
	h.report(err)
}
