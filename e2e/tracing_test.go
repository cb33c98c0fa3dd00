package e2e

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/otlptest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// tracedConfig traces every callback to endpoint: gifts is retried once, moderation is
// mirrored to a candidate, the After callbacks are delivered in the background.
func tracedConfig(t *testing.T, endpoint, gifts, moderation, candidate, audit string) *testutil.Config {
	return newConfig(t).Set("server.shutdown_timeout", "5s").
		SetYAML("tracing", "{sample_ratio: 1, service_name: router-under-test}").Set("tracing.endpoint", endpoint).
		Upstream("gifts", gifts+"/gifts").Upstream("moderation", moderation+"/moderation").
		Upstream("moderation_v2", candidate+"/v2").Upstream("audit", audit+"/events").
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: gifts, retries: 1, fallback: {action: deny, error_code: 102101}}`).
		Route(`{name: moderation, commands: [Group.CallbackBeforeSendMsg], upstream: moderation, shadow: {upstream: moderation_v2}}`).
		Route(`{name: audit, commands: ["Live.CallbackAfter*"], upstream: audit, async: true}`).
		Route(catchAll)
}

// traceIDOf returns the trace id and span id of a traceparent header.
func traceIDOf(traceparent string) (traceID, spanID string) {
	parts := strings.Split(traceparent, "-")
	if len(parts) != 4 {
		return "", ""
	}
	return parts[1], parts[2]
}

const secretMarker = "do-not-trace-me"

// postTraced posts a callback whose query carries secretMarker, with a traceparent header
// unless it is "".
func (r *router) postTraced(t *testing.T, command, body, traceparent string) answer {
	t.Helper()
	header := http.Header{}
	if traceparent != "" {
		header.Set("traceparent", traceparent)
	}
	return r.post(t, unsigned(command)+"&ClientIP="+secretMarker, body, header)
}

// TestBinaryTracesCallbacks: the router exports a span per callback with a child per
// attempt, spans for shadow calls and background deliveries, and every upstream gets the
// traceparent of the span that called it.
func TestBinaryTracesCallbacks(t *testing.T) {
	rcv := otlptest.Start(t)
	gifts := upstreamtest.Start(t, upstreamtest.FailFirst(1, http.StatusServiceUnavailable, upstreamtest.OK()))
	moderation := upstreamtest.Start(t, upstreamtest.OK())
	candidate := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, candidateDenys))
	audit := upstreamtest.Start(t, upstreamtest.OK())
	r := start(t, tracedConfig(t, rcv.URL, gifts.URL, moderation.URL, candidate.URL, audit.URL))

	const incoming = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
	gift := r.postTraced(t, "Live.CallbackBeforeSendGift", `{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"GiftId":"`+secretMarker+`"}}`, incoming)
	msg := r.postTraced(t, "Group.CallbackBeforeSendMsg", groupMsg, "")
	after := r.postTraced(t, "Live.CallbackAfterCreateRoom", `{"CallbackCommand":"Live.CallbackAfterCreateRoom"}`, "")
	for _, a := range []answer{gift, msg, after} {
		if a.status != 200 || !strings.Contains(a.body, `"ErrorCode":0`) {
			t.Fatalf("Tencent got %d %s, want the upstream's allow", a.status, a.body)
		}
	}

	spans := rcv.WaitFor(t, 20*time.Second, func(s []otlptest.Span) bool {
		names := map[string]int{}
		for _, x := range s {
			names[x.Name]++
		}
		return names["callback gifts"] == 1 && names["upstream gifts"] == 2 && names["callback moderation"] == 1 &&
			names["shadow moderation_v2"] == 1 && names["upstream moderation_v2"] == 1 && names["deliver audit"] == 1 &&
			names["upstream audit"] == 1
	})
	find := func(name string, attr, value string) otlptest.Span {
		t.Helper()
		for _, s := range spans {
			if s.Name == name && (attr == "" || s.Attributes[attr] == value) {
				return s
			}
		}
		t.Fatalf("no span %q with %s=%s among %+v", name, attr, value, spans)
		return otlptest.Span{}
	}

	// The gift callback continues the incoming trace; its two attempts are its children.
	cb := find("callback gifts", "", "")
	inTrace, inSpan := traceIDOf(incoming)
	if cb.TraceID != inTrace || cb.ParentSpanID != inSpan {
		t.Errorf("callback span: trace %s parent %s, want the incoming %s %s", cb.TraceID, cb.ParentSpanID, inTrace, inSpan)
	}
	for key, want := range map[string]string{
		"callback.request_id": gift.requestID(), "callback.command": "Live.CallbackBeforeSendGift", "callback.app": "1400000001",
		"callback.route": "gifts", "callback.decision": "upstream", "http.response.status_code": "200",
	} {
		if got := cb.Attributes[key]; got != want {
			t.Errorf("callback span %s: got %q, want %q", key, got, want)
		}
	}
	if cb.Service != "router-under-test" {
		t.Errorf("service.name: got %q, want router-under-test", cb.Service)
	}
	giftReqs := gifts.Requests()
	if len(giftReqs) != 2 {
		t.Fatalf("gift upstream requests: got %d, want 2", len(giftReqs))
	}
	for n, wantStatus := range map[int]string{1: "503", 2: "200"} {
		at := find("upstream gifts", "upstream.attempt", strconv.Itoa(n))
		if at.ParentSpanID != cb.SpanID || at.TraceID != cb.TraceID {
			t.Errorf("attempt %d: parent %s trace %s, want the callback span %s in %s", n, at.ParentSpanID, at.TraceID, cb.SpanID, cb.TraceID)
		}
		if at.Attributes["http.response.status_code"] != wantStatus || at.Attributes["upstream.instance"] != gifts.URL+"/gifts" ||
			at.Attributes["upstream.breaker_state"] != "closed" {
			t.Errorf("attempt %d attributes: got %v, want status %s, the instance, breaker closed", n, at.Attributes, wantStatus)
		}
		// The upstream was told this attempt's span, in the exported trace.
		trace, span := traceIDOf(giftReqs[n-1].Header.Get("traceparent"))
		if trace != cb.TraceID || span != at.SpanID {
			t.Errorf("attempt %d traceparent: trace %s span %s, want %s %s", n, trace, span, cb.TraceID, at.SpanID)
		}
	}

	// The mirror: a shadow span under the callback's, its attempt under it, the candidate
	// told the same trace.
	mcb := find("callback moderation", "", "")
	sh := find("shadow moderation_v2", "", "")
	sat := find("upstream moderation_v2", "", "")
	if sh.ParentSpanID != mcb.SpanID || sat.ParentSpanID != sh.SpanID || sh.Attributes["shadow.result"] != "verdict" {
		t.Errorf("shadow spans: shadow parent %s (want %s), its attempt's parent %s (want %s), result %q (want verdict)",
			sh.ParentSpanID, mcb.SpanID, sat.ParentSpanID, sh.SpanID, sh.Attributes["shadow.result"])
	}
	if trace, _ := traceIDOf(candidate.Requests()[0].Header.Get("traceparent")); trace != mcb.TraceID {
		t.Errorf("candidate traceparent trace %s, want the callback's %s", trace, mcb.TraceID)
	}

	// The delivery: a trace of its own, linked to the callback that queued it.
	acb := find("callback audit", "", "")
	dl := find("deliver audit", "", "")
	if dl.TraceID == acb.TraceID || len(dl.Links) != 1 || dl.Links[0] != acb.TraceID {
		t.Errorf("delivery span: trace %s links %q, want its own trace linked to %s", dl.TraceID, dl.Links, acb.TraceID)
	}
	if trace, _ := traceIDOf(audit.Requests()[0].Header.Get("traceparent")); trace != dl.TraceID {
		t.Errorf("audit traceparent trace %s, want the delivery's %s", trace, dl.TraceID)
	}

	// Nothing from the query or the body is in a span.
	for _, s := range spans {
		for k, v := range s.Attributes {
			if strings.Contains(v, secretMarker) || strings.Contains(v, "red packet") || strings.Contains(v, "SdkAppid=") {
				t.Errorf("span %q attribute %s carries a query or body: %q", s.Name, k, v)
			}
		}
	}
	// The collector holds the spans as soon as it has read them; the exporter counts them
	// only once the collector's answer is back, a moment later.
	testutil.Eventually(t, "trace_spans_exported_total to count the spans", func() bool {
		return r.metric(t, "callback_router_trace_spans_exported_total") > 0
	})
}

// TestBinaryTracingCollectorDown: a collector that refuses connections, or takes them and
// never answers, changes nothing for callbacks; the spans are dropped and counted.
func TestBinaryTracingCollectorDown(t *testing.T) {
	hung := otlptest.Start(t)
	hung.Hang()
	for name, endpoint := range map[string]string{
		"refused": "http://" + upstreamtest.DeadAddr(t),
		"hung":    hung.URL,
	} {
		t.Run(name, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, primaryAllows))
			r := start(t, tracedConfig(t, endpoint, up.URL, up.URL, up.URL, up.URL))
			var slowest time.Duration
			for range 200 {
				a := r.postTraced(t, "Group.CallbackBeforeSendMsg", groupMsg, "")
				if a.status != 200 || a.body != primaryAllows {
					t.Fatalf("Tencent got %d %q, want the upstream's answer", a.status, a.body)
				}
				slowest = max(slowest, a.elapsed)
			}
			t.Logf("slowest of 200 answers with the collector %s: %s", name, slowest)
			if slowest > time.Second {
				t.Errorf("slowest answer %s: the collector held a callback up", slowest)
			}
			if name == "refused" {
				const dropped = `callback_router_trace_spans_dropped_total{reason="export_failed"}`
				testutil.Eventually(t, "failed exports to be counted", func() bool {
					return r.metric(t, dropped) > 0
				})
			}
		})
	}
}

// TestBinaryUnsampledCallbacksPropagate: at sample_ratio 0 nothing is exported, and the
// upstream is still told the trace, flagged not sampled, so it does not sample either.
func TestBinaryUnsampledCallbacksPropagate(t *testing.T) {
	rcv := otlptest.Start(t)
	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, primaryAllows))
	r := start(t, tracedConfig(t, rcv.URL, up.URL, up.URL, up.URL, up.URL).Set("tracing.sample_ratio", 0))
	for range 20 {
		if a := r.postTraced(t, "Live.CallbackBeforeSendGift", `{"CallbackCommand":"Live.CallbackBeforeSendGift"}`, ""); a.body != primaryAllows {
			t.Fatalf("Tencent got %q, want the upstream's answer", a.body)
		}
	}
	traces := map[string]bool{}
	for _, r := range up.Requests() {
		tp := r.Header.Get("traceparent")
		trace, span := traceIDOf(tp)
		if trace == "" || span == "" || !strings.HasSuffix(tp, "-00") {
			t.Fatalf("upstream traceparent %q, want one flagged not sampled", tp)
		}
		traces[trace] = true
	}
	if len(traces) != 20 {
		t.Errorf("distinct trace ids: got %d, want one per callback (20)", len(traces))
	}
	time.Sleep(1500 * time.Millisecond) // past the batcher's 1 s timer
	if got := rcv.Spans(); len(got) != 0 {
		t.Errorf("exported %d spans at sample_ratio 0, want none", len(got))
	}
}
