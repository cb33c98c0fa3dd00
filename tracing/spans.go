package tracing

import (
	"context"
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
// an incoming traceparent (whose sampled flag then decides), or starting one.
func (t *Tracer) StartCallback(ctx context.Context, in Incoming, at time.Time) (context.Context, trace.Span) {
	if in.TraceParent != "" {
		ctx = propagator.Extract(ctx, &in)
	}
	return t.tracer.Start(ctx, "callback", trace.WithSpanKind(trace.SpanKindServer), trace.WithTimestamp(at))
}

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
		span.SetAttributes(KeyRequestID.String(c.RequestID), KeyCommand.String(c.Command), KeyApp.String(c.App),
			KeyRoute.String(c.Route), KeyDecision.String(c.Decision), KeyStatus.Int(c.Status))
		if c.FallbackReason != "" {
			span.SetAttributes(KeyFallbackReason.String(c.FallbackReason))
			span.SetStatus(codes.Error, c.FallbackReason)
		} else if c.Status >= 400 {
			span.SetStatus(codes.Error, c.Decision)
		}
	}
	span.End()
}

// StartAttempt starts the span of one HTTP attempt to an upstream, a child of the span in
// ctx (the callback's, a shadow call's or a delivery's).
func (t *Tracer) StartAttempt(ctx context.Context, upstream string, attempt int) (context.Context, trace.Span) {
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
		span.SetAttributes(KeyInstance.String(a.Instance), KeyBreaker.String(a.Breaker))
		if a.Status != 0 {
			span.SetAttributes(KeyStatus.Int(a.Status))
		}
		if a.Err != nil {
			span.SetStatus(codes.Error, a.Err.Error())
		}
	}
	span.End()
}

// StartShadow starts the span of a callback's mirror to a candidate upstream, a child of the
// callback's span in ctx. It may outlive the callback's span: the mirror's answer is
// awaited after Tencent's.
func (t *Tracer) StartShadow(ctx context.Context, route, upstream string) (context.Context, trace.Span) {
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
// own, linked to the callback that queued it (queuedBy is that callback's traceparent, ""
// when unknown): a delivery may run hours later, long after the callback's trace ended.
func (t *Tracer) StartDelivery(ctx context.Context, queuedBy, upstream, eventID string, delivery int) (context.Context, trace.Span) {
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

// Inject writes the traceparent (and tracestate) of the span in ctx with set, as headers to
// an upstream: unsampled spans are propagated too, so the upstream knows not to sample.
func Inject(ctx context.Context, set func(name, value string)) {
	propagator.Inject(ctx, setter(set))
}

// TraceParent returns the traceparent of the span in ctx, "" when there is none: a queued
// delivery keeps it to link its own span to the callback's.
func TraceParent(ctx context.Context) string {
	var in Incoming
	propagator.Inject(ctx, &in)
	return in.TraceParent
}

// setter adapts a header-setting function to propagation.TextMapCarrier.
type setter func(name, value string)

func (setter) Get(string) string        { return "" }
func (s setter) Set(name, value string) { s(name, value) }
func (setter) Keys() []string           { return nil }
