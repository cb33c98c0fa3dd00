package tracing_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/otlptest"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tracing"
)

// newTracer returns a tracer exporting to endpoint, shut down when the test ends.
func newTracer(t *testing.T, s tracing.Settings) *tracing.Tracer {
	t.Helper()
	if s.ServiceName == "" {
		s.ServiceName = "callback-router-test"
	}
	if s.BatchTimeout == 0 {
		s.BatchTimeout = 20 * time.Millisecond
	}
	tr, err := tracing.New(s)
	if err != nil {
		t.Fatal(err)
	}
	if tr == nil {
		t.Fatal("New() = nil, want a tracer")
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		tr.Shutdown(ctx) // a hung collector holds it to the timeout
	})
	return tr
}

func flush(t *testing.T, tr *tracing.Tracer) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := tr.Flush(ctx); err != nil {
		t.Logf("Flush: %v", err)
	}
}

// traceID returns the trace id field of a traceparent header (version-traceid-spanid-flags).
func traceID(traceparent string) string {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 {
		return ""
	}
	return parts[1]
}

const incoming = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"

func TestCallbackAndAttemptSpansReachTheCollector(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, tracing.Settings{Endpoint: rcv.URL, SampleRatio: 0, ServiceVersion: "v-test"})

	// An incoming sampled traceparent is continued, whatever the ratio.
	ctx, span := tr.StartCallback(context.Background(), tracing.Incoming{TraceParent: incoming, TraceState: "vendor=x"}, time.Now())
	actx, attempt := tr.StartAttempt(ctx, "gifts", 1)
	headers := map[string]string{}
	tracing.Inject(actx, func(k, v string) { headers[k] = v })
	tracing.EndAttempt(attempt, tracing.Attempt{Instance: "http://127.0.0.1:9001/gifts", Status: 503, Breaker: "closed", Err: errors.New("status 503")})
	tracing.EndCallback(span, tracing.Callback{RequestID: "abc-1", Command: "Live.CallbackBeforeSendGift", App: "1400000001",
		Route: "gifts", Decision: "deny", FallbackReason: "upstream_error", Status: 200})
	flush(t, tr)

	spans := rcv.WaitFor(t, 10*time.Second, func(s []otlptest.Span) bool { return len(s) >= 2 })
	byName := map[string]otlptest.Span{}
	for _, s := range spans {
		byName[s.Name] = s
	}
	cb, at := byName["callback gifts"], byName["upstream gifts"]
	if cb.SpanID == "" || at.SpanID == "" {
		t.Fatalf("spans: got %+v, want \"callback gifts\" and \"upstream gifts\"", spans)
	}
	if got, want := cb.TraceID, traceID(incoming); got != want {
		t.Errorf("callback trace id: got %s, want the incoming %s", got, want)
	}
	if got, want := cb.ParentSpanID, "00f067aa0ba902b7"; got != want {
		t.Errorf("callback parent: got %s, want the incoming span %s", got, want)
	}
	if got, want := at.ParentSpanID, cb.SpanID; got != want {
		t.Errorf("attempt parent: got %s, want the callback span %s", got, want)
	}
	for key, want := range map[string]string{
		"callback.request_id": "abc-1", "callback.command": "Live.CallbackBeforeSendGift", "callback.app": "1400000001",
		"callback.route": "gifts", "callback.decision": "deny", "callback.fallback_reason": "upstream_error",
		"http.response.status_code": "200",
	} {
		if got := cb.Attributes[key]; got != want {
			t.Errorf("callback span %s: got %q, want %q", key, got, want)
		}
	}
	for key, want := range map[string]string{
		"upstream.name": "gifts", "upstream.instance": "http://127.0.0.1:9001/gifts", "upstream.attempt": "1",
		"http.response.status_code": "503", "upstream.breaker_state": "closed",
	} {
		if got := at.Attributes[key]; got != want {
			t.Errorf("attempt span %s: got %q, want %q", key, got, want)
		}
	}
	if !cb.StatusError || !at.StatusError {
		t.Errorf("a fallback and a failed attempt are errors: got callback %v, attempt %v", cb.StatusError, at.StatusError)
	}
	if got, want := cb.Service, "callback-router-test"; got != want {
		t.Errorf("service.name: got %q, want %q", got, want)
	}
	// The upstream is told the attempt's span, in the callback's trace, with its tracestate.
	if got, want := headers[tracing.HeaderTraceParent], "00-"+cb.TraceID+"-"+at.SpanID+"-01"; got != want {
		t.Errorf("injected traceparent: got %q, want %q", got, want)
	}
	if got, want := headers[tracing.HeaderTraceState], "vendor=x"; got != want {
		t.Errorf("injected tracestate: got %q, want %q", got, want)
	}
	if c := tr.Counts(); c.Exported < 2 || c.QueueFull != 0 || c.ExportFailed != 0 {
		t.Errorf("Counts() = %+v, want 2 exported and nothing dropped", c)
	}
}

func TestUnsampledCallbacksStillPropagate(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, tracing.Settings{Endpoint: rcv.URL, SampleRatio: 0})
	ctx, span := tr.StartCallback(context.Background(), tracing.Incoming{}, time.Now())
	tp := tracing.TraceParent(ctx)
	tracing.EndCallback(span, tracing.Callback{Route: "gifts"})
	flush(t, tr)
	if !strings.HasSuffix(tp, "-00") || traceID(tp) == "" {
		t.Errorf("traceparent of an unsampled callback: got %q, want one flagged 00", tp)
	}
	if got := rcv.Spans(); len(got) != 0 {
		t.Errorf("exported %d spans at ratio 0, want none", len(got))
	}
}

func TestDeliverySpanLinksToItsCallback(t *testing.T) {
	rcv := otlptest.Start(t)
	tr := newTracer(t, tracing.Settings{Endpoint: rcv.URL, SampleRatio: 1})
	_, span := tr.StartDelivery(context.Background(), incoming, "audit", "ev-1", 3)
	tracing.EndDelivery(span, nil)
	flush(t, tr)
	spans := rcv.WaitFor(t, 10*time.Second, func(s []otlptest.Span) bool { return len(s) >= 1 })
	d := spans[0]
	if got, want := d.Name, "deliver audit"; got != want {
		t.Errorf("name: got %q, want %q", got, want)
	}
	if d.TraceID == traceID(incoming) || d.ParentSpanID != "" {
		t.Errorf("a delivery starts a trace of its own: got trace %s parent %q", d.TraceID, d.ParentSpanID)
	}
	if len(d.Links) != 1 || d.Links[0] != traceID(incoming) {
		t.Errorf("links: got %q, want the queuing callback's trace %s", d.Links, traceID(incoming))
	}
	if got, want := d.Attributes["delivery.attempt"], "3"; got != want {
		t.Errorf("delivery.attempt: got %q, want %q", got, want)
	}
}

// TestDownCollectorCostsCallbacksNothing: spans for a collector that refuses connections
// are dropped and counted, and ending spans never waits.
func TestDownCollectorDropsAndCounts(t *testing.T) {
	var reported atomic.Int64
	tr := newTracer(t, tracing.Settings{Endpoint: "http://" + upstreamtest.DeadAddr(t), SampleRatio: 1,
		OnError: func(error) { reported.Add(1) }})
	for range 50 {
		_, span := tr.StartCallback(context.Background(), tracing.Incoming{}, time.Now())
		tracing.EndCallback(span, tracing.Callback{Route: "gifts"})
	}
	// The batcher exports on its timer and fails: wait for it rather than flush, which
	// would return the error instead of reporting it.
	for deadline := time.Now().Add(10 * time.Second); tr.Counts().ExportFailed < 50 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if c := tr.Counts(); c.ExportFailed != 50 || c.Exported != 0 {
		t.Errorf("Counts() = %+v, want 50 failed exports", c)
	}
	if reported.Load() == 0 {
		t.Errorf("the export error was not reported")
	}
}

// TestHungCollectorFillsTheQueue: a collector that takes the connection and never answers
// holds one export; the queue fills and further spans are dropped, counted, at once.
func TestHungCollectorFillsTheQueue(t *testing.T) {
	rcv := otlptest.Start(t)
	rcv.Hang()
	tr := newTracer(t, tracing.Settings{Endpoint: rcv.URL, SampleRatio: 1, QueueSize: 16, ExportTimeout: 30 * time.Second})
	const n = 5000
	start := time.Now()
	for range n {
		_, span := tr.StartCallback(context.Background(), tracing.Incoming{}, time.Now())
		tracing.EndCallback(span, tracing.Callback{Route: "gifts"})
	}
	took := time.Since(start)
	c := tr.Counts()
	if c.QueueFull == 0 {
		t.Errorf("Counts() = %+v, want spans dropped for a full queue", c)
	}
	// The claim is "never waits for the collector" (its export timeout here is 30 s); a
	// shared machine makes 5000 spans take a while, hence the margin.
	if took > 10*time.Second {
		t.Errorf("ending %d spans took %s with a hung collector, want no wait on it", n, took)
	}
}

func TestOffWithoutEndpoint(t *testing.T) {
	t.Setenv(tracing.EnvEndpoint, "")
	t.Setenv(tracing.EnvTracesEndpoint, "")
	tr, err := tracing.New(tracing.Settings{SampleRatio: 1, ServiceName: "x"})
	if err != nil || tr != nil {
		t.Errorf("New() without endpoint = %v, %v; want nil, nil (off)", tr, err)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	rcv := otlptest.Start(t)
	t.Setenv(tracing.EnvEndpoint, rcv.URL)
	tr := newTracer(t, tracing.Settings{SampleRatio: 1})
	_, span := tr.StartCallback(context.Background(), tracing.Incoming{}, time.Now())
	tracing.EndCallback(span, tracing.Callback{Route: "from-env"})
	flush(t, tr)
	rcv.WaitFor(t, 10*time.Second, func(s []otlptest.Span) bool { return len(s) == 1 && s[0].Name == "callback from-env" })
}
