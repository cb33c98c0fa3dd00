package server

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/trace"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/shadow"
	"github.com/callback-router/callback-router/tracing"
)

// shadowHeaders are the extra headers of every mirrored call.
var shadowHeaders = []proxy.Header{{Name: shadow.Header, Value: "1"}}

// mirror is one callback's call to its route's candidate, running beside the primary. The
// request path hands it the answer Tencent got (finish) and never waits for it: the
// comparison happens on the mirror's goroutine once both answers are known.
type mirror struct {
	primary chan shadow.Answer // Tencent's answer; buffered, so finish never blocks
}

// startMirror mirrors a synchronous callback to the route's candidate when the route
// shadows and the callback is sampled, and returns nil otherwise. The mirror carries the
// callback's bytes, query and request id, and X-Callback-Shadow: 1; it has the route's
// deadline counted from arrival, no retries and its upstream's own breakers. Over the
// shadow's max_in_flight it is skipped, and counted, at once. TRTC's events are not
// mirrored: Tencent ignores their answers, so there is no verdict to compare.
func (h *Handler) startMirror(ctx context.Context, r *router.Route, in *Inbound, out *Outbound, o *outcome) *mirror {
	sh := r.Shadow
	if sh == nil || r.Async || o.trtc || !sh.Mirrors(out.RequestID) {
		return nil
	}
	ev := ShadowEvent{Received: in.Received, RequestID: out.RequestID, Command: o.command, App: o.appName(),
		Route: r.Name, Upstream: sh.Upstream.Name()}
	if !sh.Acquire() {
		ev.Result = shadow.Skipped
		h.shadowObs.Shadowed(ev)
		return nil
	}
	m := &mirror{primary: make(chan shadow.Answer, 1)}
	call := &proxy.Call{Body: bytes.Clone(in.Body), RawQuery: in.RawQuery, RequestID: out.RequestID,
		ForwardedFor: forwardedFor(in), Headers: shadowHeaders}
	// The mirror outlives the request: its context is its own, with the route's deadline,
	// carrying only the trace of the callback it mirrors.
	// The goroutine keeps values, not in: in is the connection layer's, for the call only.
	received := in.Received
	deadline, window := received.Add(r.Deadline), r.Window
	mctx := context.Background()
	var span trace.Span
	if h.tracer != nil {
		var sctx context.Context
		sctx, span = h.tracer.StartShadow(ctx, r.Name, sh.Upstream.Name())
		mctx = tracing.Detach(sctx)
	}
	h.mirrors.Add(1)
	go func() {
		defer h.mirrors.Done()
		defer sh.Release()
		cand := h.callCandidate(mctx, sh, deadline, call)
		if cand.Body != nil || cand.Failure != string(proxy.ReasonBreakerOpen) {
			ev.Duration = time.Since(received)
		}
		primary, ok := m.await(received.Add(window + time.Second))
		if !ok {
			if span != nil {
				span.End()
			}
			return // the callback never got its answer (a panic): nothing to compare with
		}
		cmp := shadow.Compare(call.Body, primary, cand)
		ev.Result, ev.Primary, ev.Candidate = cmp.Result, cmp.Primary, cmp.Candidate
		if span != nil {
			tracing.EndShadow(span, string(cmp.Result))
		}
		h.shadowObs.Shadowed(ev)
		h.logShadow(&ev)
	}()
	return m
}

// callCandidate calls the candidate once, within the deadline; an open breaker refuses
// without a call.
func (h *Handler) callCandidate(ctx context.Context, sh *router.Shadow, deadline time.Time, call *proxy.Call) shadow.Answer {
	if !sh.Upstream.Available() {
		return shadow.Answer{Failure: string(proxy.ReasonBreakerOpen)}
	}
	res := sh.Caller.Forward(ctx, deadline, call)
	if res.OK() {
		return shadow.Answer{Body: res.Body}
	}
	return shadow.Answer{Failure: failureText(res)}
}

// failureText says in a few words why a candidate gave no usable answer, for the status
// page: never its body.
func failureText(res proxy.Result) string {
	switch {
	case res.Status != 0 && res.Status != 200:
		return "status " + strconv.Itoa(res.Status)
	case errors.Is(res.Err, proxy.ErrBadEnvelope):
		return "not an envelope"
	case errors.Is(res.Err, proxy.ErrTooLarge):
		return "answer too large"
	}
	return string(res.Reason)
}

// await returns the answer Tencent got, or false when none came by until: the request path
// hands it over by the end of Tencent's window, whatever happens, unless it panicked.
func (m *mirror) await(until time.Time) (shadow.Answer, bool) {
	timer := time.NewTimer(time.Until(until))
	defer timer.Stop()
	select {
	case a := <-m.primary:
		return a, true
	case <-timer.C:
		return shadow.Answer{}, false
	}
}

// finish hands the mirror the answer Tencent got. A fallback for a route without upstream
// (no_route) is the route's answer by design, not a failure.
func (m *mirror) finish(out *Outbound, reason proxy.Reason) {
	a := shadow.Answer{Body: bytes.Clone(out.Body)}
	if reason != "" && reason != ReasonNoRoute {
		a.Fallback = string(reason)
	}
	m.primary <- a
}

// logShadow writes the line of a mirrored callback whose candidate would have changed what
// Tencent got, at info, under the callback's request id; agreements are only counted.
func (h *Handler) logShadow(ev *ShadowEvent) {
	if !ev.Result.Disagrees() {
		return
	}
	h.log.Info().Str("request_id", ev.RequestID).Str("command", ev.Command).Str("app", ev.App).
		Str("route", ev.Route).Str("shadow_upstream", ev.Upstream).Str("shadow_result", string(ev.Result)).
		Str("tencent_got", ev.Primary).Str("shadow_answered", ev.Candidate).
		Float64("shadow_ms", float64(ev.Duration.Microseconds())/1000).Msg("shadow disagrees")
}

// enqueueShadowCopy queues a copy of an async callback for the route's candidate, when the
// route shadows and the callback is sampled: the candidate gets a delivery like the route's
// upstreams, marked X-Callback-Shadow: 1, and nothing is compared. It is stored on its own
// goroutine, after Tencent's answer is decided, so a slow or full store costs Tencent
// nothing: a copy the store refuses is counted as skipped.
func (h *Handler) enqueueShadowCopy(r *router.Route, j delivery.Job, requestID string) {
	sh := r.Shadow
	if sh == nil || !sh.Mirrors(requestID) {
		return
	}
	j.Upstream, j.OrderKey = sh.Upstream, ""
	j.Headers = append(slices.Clone(j.Headers), shadowHeaders...)
	h.mirrors.Add(1)
	go func() {
		defer h.mirrors.Done()
		ctx, cancel := context.WithTimeout(context.Background(), r.Window)
		defer cancel()
		if !h.queue.Enqueue(ctx, j) {
			h.shadowObs.Shadowed(ShadowEvent{Received: j.Received, RequestID: j.RequestID, Command: j.Command,
				Route: r.Name, Upstream: sh.Upstream.Name(), Result: shadow.Skipped})
		}
	}()
}

// waitMirrors waits until every mirror has compared, or ctx ends. Each ends by its route's
// deadline, so a shutdown waits at most that long.
func (h *Handler) waitMirrors(ctx context.Context) {
	done := make(chan struct{})
	go func() { h.mirrors.Wait(); close(done) }()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// nopShadowObserver is the ShadowObserver of a Handler whose observer wants no comparisons.
type nopShadowObserver struct{}

func (nopShadowObserver) Shadowed(ShadowEvent) {}
