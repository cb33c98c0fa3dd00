package tracing

import (
	"context"
	"encoding/binary"
	"encoding/hex"
	"math/rand/v2"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/trace"
)

// Attribute keys. Spans carry what a callback's log line says, never a body, a query string
// (it holds the Sign) or a token.
const (
	KeyRequestID      = attribute.Key("callback.request_id")
	KeyCommand        = attribute.Key("callback.command")
	KeyApp            = attribute.Key("callback.app")
	KeyRoute          = attribute.Key("callback.route")
	KeyDecision       = attribute.Key("callback.decision")
	KeyFallbackReason = attribute.Key("callback.fallback_reason")
	KeyStatus         = attribute.Key("http.response.status_code")
	KeyUpstream       = attribute.Key("upstream.name")
	KeyInstance       = attribute.Key("upstream.instance")
	KeyAttempt        = attribute.Key("upstream.attempt")
	KeyBreaker        = attribute.Key("upstream.breaker_state")
	KeyShadowResult   = attribute.Key("shadow.result")
	KeyEventID        = attribute.Key("delivery.event_id")
	KeyDelivery       = attribute.Key("delivery.attempt")
)

// Incoming carries the trace headers a callback arrived with.
type Incoming struct {
	TraceParent, TraceState string
}

// Get, Set and Keys make Incoming a propagation.TextMapCarrier without a map.
func (in *Incoming) Get(key string) string {
	switch key {
	case "traceparent":
		return in.TraceParent
	case "tracestate":
		return in.TraceState
	}
	return ""
}

func (in *Incoming) Set(key, value string) {
	switch key {
	case "traceparent":
		in.TraceParent = value
	case "tracestate":
		in.TraceState = value
	}
}

func (*Incoming) Keys() []string { return []string{"traceparent", "tracestate"} }

// StartCallback starts the span of one callback, received at at, continuing the trace of
// an incoming traceparent (whose sampled flag then decides), or starting one that is sampled
// at the tracer's ratio. An unsampled callback gets a span context and nothing more: no SDK
// span, nothing recorded, so tracing costs little more than its traceparent.
func (t *Tracer) StartCallback(ctx context.Context, in Incoming, at time.Time) (context.Context, trace.Span) {
	var parent trace.SpanContext
	if in.TraceParent != "" {
		ctx = propagator.Extract(ctx, &in)
		parent = trace.SpanContextFromContext(ctx)
	}
	if parent.IsValid() && !parent.IsSampled() || !parent.IsValid() && !t.sample() {
		return unsampled(ctx, parent)
	}
	return t.tracer.Start(ctx, "callback", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
}

// sample decides whether a trace that starts here is recorded.
func (t *Tracer) sample() bool {
	return t.ratio >= 1 || t.ratio > 0 && rand.Float64() < t.ratio
}

// unsampled puts a span context in ctx that continues parent's trace (or starts one), flagged
// not sampled, and returns it with its non-recording span.
func unsampled(ctx context.Context, parent trace.SpanContext) (context.Context, trace.Span) {
	tid := parent.TraceID()
	if !tid.IsValid() {
		binary.NativeEndian.PutUint64(tid[:8], rand.Uint64())
		binary.NativeEndian.PutUint64(tid[8:], rand.Uint64()|1) // never all zero
	}
	var sid trace.SpanID
	binary.NativeEndian.PutUint64(sid[:], rand.Uint64()|1)
	ctx = trace.ContextWithSpanContext(ctx, trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceState: parent.TraceState()}))
	return ctx, trace.SpanFromContext(ctx)
}

// noSpan is what the child spans of an unsampled callback are: nothing.
var noSpan = trace.SpanFromContext(context.Background())

// recorded reports whether the span in ctx is being recorded: its children are worth a span.
func recorded(ctx context.Context) bool { return trace.SpanFromContext(ctx).IsRecording() }

// Callback is what a callback's span says when it ends, as its log line does.
type Callback struct {
	RequestID, Command, App, Route string
	Decision, FallbackReason       string
	Status                         int
}

// EndCallback names the span after its route, sets its attributes and ends it. A fallback
// or a refusal marks the span as an error: Tencent got no upstream's answer.
func EndCallback(span trace.Span, c Callback) {
	if span.IsRecording() {
		if c.Route != "" {
			span.SetName("callback " + c.Route)
		}
		attrs := []attribute.KeyValue{KeyRequestID.String(c.RequestID), KeyCommand.String(c.Command), KeyApp.String(c.App),
			KeyRoute.String(c.Route), KeyDecision.String(c.Decision), KeyStatus.Int(c.Status), KeyFallbackReason.String(c.FallbackReason)}
		if c.FallbackReason == "" {
			attrs = attrs[:len(attrs)-1]
		}
		span.SetAttributes(attrs...) // once: each call may grow the span's list
		switch {
		case c.FallbackReason != "":
			span.SetStatus(codes.Error, c.FallbackReason)
		case c.Status >= 400:
			span.SetStatus(codes.Error, c.Decision)
		}
	}
	span.End()
}

// StartAttempt starts the span of one HTTP attempt to an upstream, a child of the span in
// ctx (the callback's, a shadow call's or a delivery's). Under an unsampled span it starts
// nothing: ctx is returned as it is, and the upstream is told the unsampled parent.
func (t *Tracer) StartAttempt(ctx context.Context, upstream string, attempt int) (context.Context, trace.Span) {
	if !recorded(ctx) {
		return ctx, noSpan
	}
	return t.tracer.Start(ctx, "upstream "+upstream, trace.WithSpanKind(trace.SpanKindClient),
		trace.WithAttributes(KeyUpstream.String(upstream), KeyAttempt.Int(attempt)))
}

// Attempt is how an attempt ended.
type Attempt struct {
	// Instance is the instance's URL without query; Status its HTTP status, 0 when none
	// came back; Breaker the instance's breaker state after the attempt.
	Instance string
	Status   int
	Breaker  string
	Err      error
}

// EndAttempt sets the attempt's outcome and ends its span.
func EndAttempt(span trace.Span, a Attempt) {
	if span.IsRecording() {
		attrs := []attribute.KeyValue{KeyInstance.String(a.Instance), KeyBreaker.String(a.Breaker), KeyStatus.Int(a.Status)}
		if a.Status == 0 {
			attrs = attrs[:2] // no answer came back
		}
		span.SetAttributes(attrs...)
		if a.Err != nil {
			span.SetStatus(codes.Error, a.Err.Error())
		}
	}
	span.End()
}

// StartShadow starts the span of a callback's mirror to a candidate upstream, a child of the
// callback's span in ctx. It may outlive the callback's span: the mirror's answer is
// awaited after Tencent's. Under an unsampled callback it starts nothing.
func (t *Tracer) StartShadow(ctx context.Context, route, upstream string) (context.Context, trace.Span) {
	if !recorded(ctx) {
		return ctx, noSpan
	}
	return t.tracer.Start(ctx, "shadow "+upstream, trace.WithSpanKind(trace.SpanKindInternal),
		trace.WithAttributes(KeyRoute.String(route), KeyUpstream.String(upstream)))
}

// EndShadow records how the mirror compared and ends its span.
func EndShadow(span trace.Span, result string) {
	if span.IsRecording() {
		span.SetAttributes(KeyShadowResult.String(result))
	}
	span.End()
}

// StartDelivery starts the span of one background delivery. It belongs to a trace of its
// own, sampled at the tracer's ratio, linked to the callback that queued it (queuedBy is that
// callback's traceparent, "" when unknown): a delivery may run hours later, long after the
// callback's trace ended.
func (t *Tracer) StartDelivery(ctx context.Context, queuedBy, upstream, eventID string, delivery int) (context.Context, trace.Span) {
	if !t.sample() {
		return unsampled(ctx, trace.SpanContext{})
	}
	opts := []trace.SpanStartOption{trace.WithNewRoot(), trace.WithSpanKind(trace.SpanKindProducer),
		trace.WithAttributes(KeyUpstream.String(upstream), KeyEventID.String(eventID), KeyDelivery.Int(delivery))}
	if queuedBy != "" {
		in := Incoming{TraceParent: queuedBy}
		if sc := trace.SpanContextFromContext(propagator.Extract(context.Background(), &in)); sc.IsValid() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	return t.tracer.Start(ctx, "deliver "+upstream, opts...)
}

// EndDelivery records whether the delivery succeeded and ends its span.
func EndDelivery(span trace.Span, err error) {
	if err != nil && span.IsRecording() {
		span.SetStatus(codes.Error, err.Error())
	}
	span.End()
}

// Header names of W3C trace context, as net/http spells them (header names are
// case-insensitive on the wire).
const (
	HeaderTraceParent = "Traceparent"
	HeaderTraceState  = "Tracestate"
)

// Inject writes the traceparent (and tracestate) of the span in ctx with set, as headers to
// an upstream: unsampled spans are propagated too, so the upstream knows not to sample. It
// writes nothing when ctx has no span.
func Inject(ctx context.Context, set func(name, value string)) {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return
	}
	set(HeaderTraceParent, traceParent(sc))
	if ts := sc.TraceState(); ts.Len() > 0 {
		set(HeaderTraceState, ts.String())
	}
}

// TraceParent returns the traceparent of the span in ctx, "" when there is none: a queued
// delivery keeps it to link its own span to the callback's.
func TraceParent(ctx context.Context) string {
	sc := trace.SpanContextFromContext(ctx)
	if !sc.IsValid() {
		return ""
	}
	return traceParent(sc)
}

// Detach returns a context that carries ctx's span and nothing else: no deadline, no
// cancellation, no value of a request that may be over (and its memory reused) by the time
// the work it is given to runs.
func Detach(ctx context.Context) context.Context {
	return trace.ContextWithSpan(context.Background(), trace.SpanFromContext(ctx))
}

// traceParent spells a span context as a version 00 traceparent:
// 00-<trace id>-<span id>-<flags>, in one allocation.
func traceParent(sc trace.SpanContext) string {
	var b [55]byte
	tid, sid := sc.TraceID(), sc.SpanID()
	copy(b[:3], "00-")
	hex.Encode(b[3:35], tid[:])
	b[35] = '-'
	hex.Encode(b[36:52], sid[:])
	b[52] = '-'
	hex.Encode(b[53:55], []byte{byte(sc.TraceFlags())})
	return string(b[:])
}
