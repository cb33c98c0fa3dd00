// Package tracing traces callbacks through the router with OpenTelemetry and exports the
// spans over OTLP/HTTP: a span per callback, a child per upstream attempt, spans for shadow
// calls and for background deliveries (linked to the callback that queued them), and the
// W3C traceparent and tracestate headers that carry the trace into upstreams.
//
// Exporting never holds up a callback: ended spans go into a bounded queue, and when the
// collector is slow or down the queue fills and further spans are dropped and counted.
// Tracing is off unless an endpoint is configured; off, there is no Tracer (nil), and
// callers skip every call into this package.
package tracing
