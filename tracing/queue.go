package tracing

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	sdktrace "go.opentelemetry.io/otel/sdk/trace"
)

// boundedQueue is the span processor every span ends in. It hands sampled spans to the
// batcher (next) through a queue of fixed size, and drops — counting — what does not fit:
// a span ending on a callback's path never waits for the collector.
type boundedQueue struct {
	next    sdktrace.SpanProcessor
	spans   chan sdktrace.ReadOnlySpan
	dropped atomic.Uint64
	stop    chan struct{}
	done    chan struct{}
	once    sync.Once
	// flushes asks the forwarder to hand over what is queued and then say so.
	flushes chan chan struct{}
}

var _ sdktrace.SpanProcessor = (*boundedQueue)(nil)

func newBoundedQueue(size int, next sdktrace.SpanProcessor) *boundedQueue {
	q := &boundedQueue{next: next, spans: make(chan sdktrace.ReadOnlySpan, size),
		stop: make(chan struct{}), done: make(chan struct{}), flushes: make(chan chan struct{})}
	go q.forward()
	return q
}

// OnStart does nothing: spans are only exported once ended.
func (*boundedQueue) OnStart(context.Context, sdktrace.ReadWriteSpan) {}

// OnEnd queues a sampled span, or drops it when the queue is full.
func (q *boundedQueue) OnEnd(s sdktrace.ReadOnlySpan) {
	if !s.SpanContext().IsSampled() {
		return
	}
	select {
	case q.spans <- s:
	default:
		q.dropped.Add(1)
	}
}

// forward hands queued spans to the batcher, which may block while an export is slow: only
// this goroutine waits then.
func (q *boundedQueue) forward() {
	defer close(q.done)
	for {
		select {
		case s := <-q.spans:
			q.next.OnEnd(s)
		case ack := <-q.flushes:
			q.drain()
			close(ack)
		case <-q.stop:
			q.drain()
			return
		}
	}
}

// drain hands over what is queued now.
func (q *boundedQueue) drain() {
	for {
		select {
		case s := <-q.spans:
			q.next.OnEnd(s)
		default:
			return
		}
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
