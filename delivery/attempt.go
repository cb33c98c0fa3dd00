package delivery

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/tracing"
)

// Headers of a background delivery.
const (
	// HeaderEventID carries the callback's idempotency key (EventID): the same on every
	// attempt, redelivery, restart and instance.
	HeaderEventID = "X-Callback-Event-Id"
	// HeaderVerdict and HeaderReason mark a journal entry: the router answered Tencent with
	// this fallback verdict (allow or deny), for this reason (timeout, breaker_open, …).
	HeaderVerdict = "X-Callback-Fallback-Verdict"
	HeaderReason  = "X-Callback-Fallback-Reason"
	// HeaderDelivery counts the deliveries of this record, 1 for the first.
	HeaderDelivery = "X-Callback-Delivery"
)

// attemptRetries are the quick retries inside one delivery attempt, as for a sync route.
const attemptRetries = 1

// deliver makes one delivery of a record, whichever backend holds it. Traced, it runs in a
// span of its own (a delivery may come hours after its callback) linked to the callback
// that queued it, and the upstream gets that span in traceparent.
func deliver(ctx context.Context, tr *tracing.Tracer, up *proxy.Upstream, deadline time.Time, r *Record) proxy.Result {
	caller := up.Caller(deliveryPolicy(r.RetryOn))
	if tr == nil {
		return caller.Forward(ctx, deadline, deliveryCall(r))
	}
	ctx, span := tr.StartDelivery(ctx, r.TraceParent, r.Upstream, r.EventID, r.Attempts+1)
	res := caller.Forward(ctx, deadline, deliveryCall(r))
	var err error
	if !res.OK() {
		err = failure(res)
	}
	tracing.EndDelivery(span, err)
	return res
}

// deliveryCall builds the upstream call for a record.
func deliveryCall(r *Record) *proxy.Call {
	h := make([]proxy.Header, 0, 4+len(r.Headers))
	h = append(h, proxy.Header{Name: HeaderEventID, Value: r.EventID}, proxy.Header{Name: HeaderDelivery, Value: fmt.Sprint(r.Attempts + 1)})
	if r.Verdict != "" {
		h = append(h, proxy.Header{Name: HeaderVerdict, Value: r.Verdict}, proxy.Header{Name: HeaderReason, Value: r.Reason})
	}
	h = append(h, r.Headers...)
	return &proxy.Call{Body: r.Body, RawQuery: r.RawQuery, RequestID: r.RequestID, ForwardedFor: r.ForwardedFor,
		Command: r.Command, App: r.App, Headers: h, StatusOnly: r.StatusOnly}
}

// deliveryPolicy is how one delivery attempt calls the upstream: a quick retry inside the
// attempt, on the statuses the route listed when the callback was queued. The upstream
// keeps one Caller per policy, so this builds nothing after the first delivery.
func deliveryPolicy(retryOn []int) proxy.Policy {
	return proxy.Policy{Retries: attemptRetries, RetryOn: retryOn}
}

// failure describes a failed delivery for the log and `queue list`.
func failure(res proxy.Result) error {
	err := res.Err
	if err == nil {
		err = errors.New("failed")
	}
	if res.Status != 0 {
		return fmt.Errorf("%s, status %d: %w", res.Reason, res.Status, err)
	}
	return fmt.Errorf("%s: %w", res.Reason, err)
}
