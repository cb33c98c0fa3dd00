package server

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
	"go.opentelemetry.io/otel/trace"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/tencent"
	"github.com/callback-router/callback-router/tracing"
)

// Decisions, as logged: who gave Tencent its answer.
const (
	DecisionUpstream = "upstream" // the upstream's answer, verbatim
	DecisionAllow    = "allow"    // the router's fallback verdict: allow
	DecisionDeny     = "deny"     // the router's fallback verdict: deny
	DecisionQueued   = "queued"   // async route: acknowledged, delivery in the background
	DecisionRejected = "rejected" // refused before routing (4xx)
)

// AppNone is the app label of a callback refused before its app was known.
const AppNone = config.NoAppName

// Reasons the router answers from a route's fallback on its own account; the proxy package
// names the upstream's failures.
const (
	ReasonOverloaded proxy.Reason = "overloaded" // the route is at max_in_flight, or the queue is full
	ReasonNoRoute    proxy.Reason = "no_route"   // no route, or a route without an upstream
)

// Handler answers callbacks. It is safe for concurrent use; the table it routes with is
// swapped atomically by whoever reloads the config.
type Handler struct {
	table *atomic.Pointer[router.Table]
	queue delivery.Queue
	log   zerolog.Logger
	ids   *requestIDs
	now   func() time.Time
	obs   Observer
	// draining is set when shutdown begins: every answer then closes its connection.
	draining atomic.Bool
	// shadowObs is told how mirrored callbacks compared; mirrors counts those in flight.
	shadowObs ShadowObserver
	mirrors   sync.WaitGroup
	// tracer traces callbacks; nil when tracing is off, and then nothing else is done.
	tracer *tracing.Tracer
}

// NewHandler returns a Handler routing with the table in t and queueing async callbacks on q.
func NewHandler(t *atomic.Pointer[router.Table], q delivery.Queue, log zerolog.Logger) *Handler {
	return &Handler{table: t, queue: q, log: log, ids: newRequestIDs(), now: time.Now, obs: nopObserver{},
		shadowObs: nopShadowObserver{}}
}

// observeWith has the Handler report callbacks to obs, and comparisons too when obs is a
// ShadowObserver.
func (h *Handler) observeWith(obs Observer) {
	h.obs = obs
	if s, ok := obs.(ShadowObserver); ok {
		h.shadowObs = s
	}
}

// outcome is what the log line of a callback says.
type outcome struct {
	command, sdkAppID string
	// app is the callback's app, nil until the SdkAppid is found among the served ones.
	app *router.App
	// tokenSlot is the position of the app's token that verified the Sign, -1 when none did
	// (an app served unsigned, or a refusal).
	tokenSlot       int
	route, upstream string
	instance        string
	attempts        int
	upstreamStatus  int
	decision        string
	reason          proxy.Reason
	rejectCode      string
	err             error
	latency         time.Duration
	// journal is the route whose fallback verdict is to be journaled, nil when none is.
	journal *router.Route
	// trtc marks one of TRTC's event callbacks: passed on with its SdkAppId and Sign
	// headers, and answered {"code":0} whenever the router answers.
	trtc bool
	// mirror is the callback's call to its route's shadow, nil when there is none.
	mirror *mirror
	// call is the synchronous route's call to its upstream.
	call proxy.Call
}

// outcomes reuses outcomes from callback to callback: off the stack of the goroutine the
// upstream call runs on, like the fasthttp engine's exchange. Nothing keeps one once
// Handle returns.
var outcomes = sync.Pool{New: func() any { return new(outcome) }}

func (o *outcome) release() {
	*o = outcome{}
	outcomes.Put(o)
}

// appName is the app label of the callback: "none" until its app is known.
func (o *outcome) appName() string {
	if o.app == nil {
		return AppNone
	}
	return o.app.Name
}

// Handle answers one callback into out.
func (h *Handler) Handle(ctx context.Context, in *Inbound, out *Outbound) {
	t := h.table.Load() // one snapshot for the whole callback, whatever reloads meanwhile
	out.RequestID = h.ids.next()
	var span trace.Span
	if h.tracer != nil {
		ctx, span = h.tracer.StartCallback(ctx, in.Trace, in.Received)
	}
	o := outcomes.Get().(*outcome)
	defer o.release()
	o.tokenSlot = -1
	h.serve(ctx, t, in, out, o)
	out.Close = out.Close || h.draining.Load()
	if o.journal != nil {
		h.recordVerdict(ctx, t, in, out, o)
	}
	if o.mirror != nil {
		o.mirror.finish(out, o.reason)
	}
	o.latency = h.now().Sub(in.Received)
	h.logCallback(in, out, o)
	h.observe(in, out, o)
	if span != nil {
		endCallbackSpan(span, out, o)
	}
}

// endCallbackSpan ends the callback's span with what its log line says. (A function of its
// own: its arguments would otherwise sit in Handle's frame, under the upstream call.)
func endCallbackSpan(span trace.Span, out *Outbound, o *outcome) {
	tracing.EndCallback(span, tracing.Callback{RequestID: out.RequestID, Command: o.command, App: o.appName(),
		Route: o.route, Decision: o.decision, FallbackReason: string(o.reason), Status: out.Status})
}

// observe tells the observer (metrics, status page) what the log line says.
func (h *Handler) observe(in *Inbound, out *Outbound, o *outcome) {
	h.obs.Observe(Event{
		Received: in.Received, Latency: o.latency, RequestID: out.RequestID,
		App: o.appName(), Verified: o.tokenSlot >= 0, TokenSlot: o.tokenSlot, Command: o.command, Route: o.route, Upstream: o.upstream, Instance: o.instance,
		Attempts: o.attempts, UpstreamStatus: o.upstreamStatus, Status: out.Status,
		Decision: o.decision, Reason: o.reason, RejectCode: o.rejectCode,
	})
}

// rejectUnread answers a request the connection layer could not read whole, with the same JSON
// error and log line as the Handler's own refusals; err is logged, not sent.
func (h *Handler) rejectUnread(out *Outbound, rej *rejection, remoteIP string, err error) {
	in := Inbound{Received: h.now(), RemoteIP: remoteIP}
	out.RequestID = h.ids.next()
	o := outcome{tokenSlot: -1}
	h.rejectWith(out, &o, rej)
	o.err = err
	h.logCallback(&in, out, &o)
	h.observe(&in, out, &o)
}

// observeRefusal tells the observer of a connection the limits refused before any request
// was read. It is counted, not logged: refusals come in floods, and the listener logs a
// summary instead.
func (h *Handler) observeRefusal(status int, code string) {
	h.obs.Observe(Event{Received: h.now(), App: AppNone, Status: status, Decision: DecisionRejected, RejectCode: code})
}

func (h *Handler) serve(ctx context.Context, t *router.Table, in *Inbound, out *Outbound, o *outcome) {
	// 1. Checks, in the order the design fixes, and the route.
	r, routed := h.admit(t, in, out, o)
	if r == nil {
		return
	}
	o.mirror = h.startMirror(ctx, r, in, out, o) // beside the primary, whatever answers Tencent
	if !routed || len(r.Upstreams) == 0 {
		h.fallback(out, o, r, ReasonNoRoute)
		return
	}
	if !r.Acquire(o.app) {
		h.fallback(out, o, r, ReasonOverloaded)
		return
	}
	defer r.Release(o.app)

	// 2. Async: queue for every upstream and acknowledge.
	if r.Async {
		h.enqueue(ctx, t, in, out, o, r)
		return
	}

	// 3. Forward within the deadline, counted from the request's arrival.
	h.forward(ctx, in, out, o, r)
}

// admit runs the checks before any upstream is called and finds the route: nil when out is
// answered already (a refusal); routed is false when no route matched and r is the
// defaults'. (A function of its own so that what the checks need is off the stack while
// the upstream is called: a callback waiting on an upstream then fits a goroutine's 8 KiB
// stack.)
func (h *Handler) admit(t *router.Table, in *Inbound, out *Outbound, o *outcome) (r *router.Route, routed bool) {
	q := tencent.ParseQuery(in.RawQuery)
	o.sdkAppID = q.SdkAppID
	if rej := h.checkRequest(t, in, &q); rej != nil {
		h.rejectWith(out, o, rej)
		return nil, false
	}
	if rej := h.checkCallback(t, in, &q, o); rej != nil {
		h.rejectWith(out, o, rej)
		return nil, false
	}
	m := t.Lookup(o.app, o.command)
	o.route = m.Route.Name
	return m.Route, m.By != router.ByNone
}

// forward calls a synchronous route's upstream and answers with what it said, or with the
// route's fallback and why.
func (h *Handler) forward(ctx context.Context, in *Inbound, out *Outbound, o *outcome, r *router.Route) {
	up := r.Caller.Upstream()
	o.upstream = up.Name()
	if !up.Available() {
		h.fallback(out, o, r, proxy.ReasonBreakerOpen)
		return
	}
	c := &o.call // field by field: a composite literal would be built on the stack first
	c.Body, c.RawQuery, c.RequestID, c.ForwardedFor = in.Body, in.RawQuery, out.RequestID, forwardedFor(in)
	c.Command, c.App, c.Headers, c.StatusOnly = o.command, o.appName(), forwardHeaders(in, o), o.trtc
	res := r.Caller.Forward(ctx, in.Received.Add(r.Deadline), c)
	o.attempts, o.upstreamStatus, o.instance, o.err = res.Attempts, res.Status, res.Instance, res.Err
	if !res.OK() {
		h.fallback(out, o, r, res.Reason)
		return
	}
	o.decision = DecisionUpstream
	out.Status, out.Body = http.StatusOK, res.Body
	if o.trtc {
		out.Body = trtcAnswer(res.Body)
	}
}

// checkRequest runs the ingress checks every request passes first, in order: source, path,
// method, size, an ambiguous query.
func (h *Handler) checkRequest(t *router.Table, in *Inbound, q *tencent.Query) *rejection {
	switch {
	case !t.Sources.Allows(in.RemoteIP, in.ForwardedFor):
		return errSource
	case in.Path != t.Path && (t.TRTCPath == "" || in.Path != t.TRTCPath):
		return errNotFound
	case in.Method != http.MethodPost:
		return errMethod
	case in.BodyTooLarge:
		return errTooLarge
	case q.Conflict != "":
		return reject(http.StatusBadRequest, "ambiguous_query", q.Conflict+" appears more than once with different values", nil)
	}
	return nil
}

// checkCallback checks what the callback is and who sent it, and names it in o: a TRTC
// event by its body (checkTRTC), any other callback by its CallbackCommand, after its app
// and Sign (checkSigned) and its body (checkBody).
func (h *Handler) checkCallback(t *router.Table, in *Inbound, q *tencent.Query, o *outcome) *rejection {
	if ev, parseErr, ok := trtcCandidate(t, in, q); ok {
		return h.checkTRTC(t, in, q, o, ev, parseErr)
	}
	if rej := h.checkSigned(t, in, q, o); rej != nil {
		return rej
	}
	if rej := checkBody(t, in.Body); rej != nil {
		return rej
	}
	names := q.Names(in.Body) // the command and the app, in one walk over the body
	switch o.command = names.Command; {
	case names.CommandErr != nil:
		// The router would route by one command and the upstream may act on another.
		return reject(http.StatusBadRequest, "ambiguous_command", names.CommandErr.Error(), nil)
	case o.command == "":
		return errNoCommand
	case tencent.IsTRTCCommand(o.command):
		return errTRTCName
	case names.OtherApp:
		return errBodyApp
	}
	return nil
}

// checkSigned checks the app and the Sign of a Chat or Live callback, in that order. It sets
// the callback's app, and the token that verified it, in o. RequestTime is held to the
// callback's arrival, the instant the connection layer read on the clock already.
func (h *Handler) checkSigned(t *router.Table, in *Inbound, q *tencent.Query, o *outcome) *rejection {
	if o.app = t.App(q.SdkAppID); o.app == nil {
		return reject(http.StatusForbidden, "app_not_served", "SdkAppid is not served here", nil)
	}
	if len(o.app.Tokens) > 0 {
		// Only the app's own tokens: a token of another app does not sign this one's callbacks.
		slot, err := tencent.VerifySign(o.app.Tokens, q.Sign, q.RequestTime, in.Received, t.MaxClockSkew)
		if err != nil {
			return reject(http.StatusUnauthorized, "bad_signature", err.Error(), err)
		}
		o.tokenSlot = slot
	}
	return nil
}

func (h *Handler) rejectWith(out *Outbound, o *outcome, rej *rejection) {
	o.decision, o.err = DecisionRejected, rej.Err
	o.rejectCode = rej.Code
	out.Status, out.Body = rej.Status, rej.body(out.RequestID)
	if rej == errMethod {
		out.Allow = http.MethodPost
	}
}

// fallback answers with the route's configured verdict, marked with the reason, and marks
// the verdict for the journal when the route keeps one.
func (h *Handler) fallback(out *Outbound, o *outcome, r *router.Route, reason proxy.Reason) {
	o.decision, o.reason = r.Fallback.Action(), reason
	out.Status, out.Body, out.Fallback = http.StatusOK, r.Fallback.Envelope, string(reason)
	if o.trtc {
		// TRTC takes no verdict: any 200 acknowledges its event.
		o.decision, out.Body = DecisionAllow, tencent.TRTCAnswer
	}
	if r.Journal && len(r.Upstreams) > 0 && reason != ReasonNoRoute {
		o.journal = r
	}
}

// storeMargin is what storing a callback leaves of Tencent's window, to write the answer.
const storeMargin = 50 * time.Millisecond

// storeContext bounds a write to the delivery store so that Tencent still gets its answer
// inside the route's window (tencent.window, or trtc_window for a route serving only TRTC
// events) when the store stalls (a slow disk, a NATS server reconnecting).
func storeContext(ctx context.Context, r *router.Route, in *Inbound) (context.Context, context.CancelFunc) {
	return context.WithDeadline(ctx, in.Received.Add(r.Window-storeMargin))
}

func (h *Handler) enqueue(ctx context.Context, t *router.Table, in *Inbound, out *Outbound, o *outcome, r *router.Route) {
	body := bytes.Clone(in.Body) // in.Body does not outlive the request
	ff := forwardedFor(in)
	headers := forwardHeaders(in, o)
	id := delivery.EventID(o.command, eventQuery(in, o), body)
	var room string
	if r.Ordered {
		room = delivery.OrderKey(body)
	}
	jobs := make([]delivery.Job, len(r.Upstreams))
	for i, up := range r.Upstreams {
		jobs[i] = delivery.Job{Upstream: up, Route: r.Name, App: o.appName(), Command: o.command, Body: body,
			RawQuery: in.RawQuery, RequestID: out.RequestID, ForwardedFor: ff,
			Headers: headers, StatusOnly: o.trtc,
			RetryOn: r.RetryOn, Received: in.Received, EventID: id, OrderKey: room}
	}
	o.upstream = r.Upstreams[0].Name()
	if tp := h.traceParent(ctx); tp != "" {
		for i := range jobs {
			jobs[i].TraceParent = tp
		}
	}
	sctx, cancel := storeContext(ctx, r, in)
	defer cancel()
	if !h.queue.Enqueue(sctx, jobs...) {
		h.fallback(out, o, r, ReasonOverloaded)
		return
	}
	o.decision = DecisionQueued
	out.Status, out.Body = http.StatusOK, tencent.AllowEnvelope
	if o.trtc {
		out.Body = tencent.TRTCAnswer
	}
	h.enqueueShadowCopy(r, jobs[0], out.RequestID)
}

// recordVerdict stores the fallback verdict Tencent was given, with the original callback,
// for delivery to the route's upstream later (journal: true). It runs before the answer is
// written, so a verdict Tencent acted on is never lost to a crash; a store that refuses it
// does not change the answer, only the log line.
func (h *Handler) recordVerdict(ctx context.Context, t *router.Table, in *Inbound, out *Outbound, o *outcome) {
	r := o.journal
	body := bytes.Clone(in.Body)
	j := delivery.Job{Upstream: r.Upstreams[0], Route: r.Name, App: o.appName(), Command: o.command, Body: body,
		RawQuery: in.RawQuery, RequestID: out.RequestID, ForwardedFor: forwardedFor(in),
		Headers: forwardHeaders(in, o), StatusOnly: o.trtc,
		RetryOn: r.RetryOn, Received: in.Received, EventID: delivery.JournalEventID(o.command, in.RawQuery, body, out.RequestID),
		Verdict: o.decision, Reason: string(o.reason), TraceParent: h.traceParent(ctx)}
	ctx, cancel := storeContext(ctx, r, in)
	defer cancel()
	if !h.queue.Enqueue(ctx, j) {
		o.err = errors.Join(o.err, errJournalRefused)
	}
}

// errJournalRefused marks, in the log line, a verdict the delivery store could not take.
var errJournalRefused = errors.New("fallback verdict not journaled: the delivery store refused it (full or failing)")

// traceParent is the traceparent of the callback's span, for the deliveries it queues to
// link to; "" when tracing is off.
func (h *Handler) traceParent(ctx context.Context) string {
	if h.tracer == nil {
		return ""
	}
	return tracing.TraceParent(ctx)
}

// forwardedFor appends the peer's address to the X-Forwarded-For it sent, as a proxy does.
func forwardedFor(in *Inbound) string {
	switch {
	case in.ForwardedFor == "":
		return in.RemoteIP
	case in.RemoteIP == "":
		return in.ForwardedFor
	}
	return in.ForwardedFor + ", " + in.RemoteIP
}

// logCallback writes the one line every callback leaves. Rejections and fallbacks are warnings:
// each is an answer Tencent got that no upstream chose. The query is never logged: it
// carries the Sign.
func (h *Handler) logCallback(in *Inbound, out *Outbound, o *outcome) {
	level := zerolog.InfoLevel
	if o.decision != DecisionUpstream && o.decision != DecisionQueued {
		level = zerolog.WarnLevel
	}
	e := h.log.WithLevel(level)
	if e == nil {
		return
	}
	e.Str("request_id", out.RequestID).
		Str("app", o.appName()).
		Str("command", o.command).
		Str("sdk_app_id", o.sdkAppID).
		Str("route", o.route).
		Str("upstream", o.upstream).
		Int("attempts", o.attempts).
		Int("status", out.Status).
		Str("decision", o.decision)
	if o.instance != "" {
		e.Str("instance", o.instance)
	}
	if o.upstreamStatus != 0 {
		e.Int("upstream_status", o.upstreamStatus)
	}
	if o.reason != "" {
		e.Str("fallback_reason", string(o.reason))
	}
	if o.rejectCode != "" {
		e.Str("reject_code", o.rejectCode)
	}
	if o.err != nil {
		e.AnErr("error", o.err)
	}
	e.Float64("latency_ms", float64(o.latency.Microseconds())/1000).Msg("callback")
}

// forwardHeaders are the headers a callback carries to its upstream besides the router's own
// (which name its command and app, see proxy.Call): a TRTC event's SdkAppId and Sign as
// received, so that a TRTC handler behind the router verifies the event as it would
// unproxied. Chat and Live callbacks carry none, and allocate nothing for them.
func forwardHeaders(in *Inbound, o *outcome) []proxy.Header {
	if !o.trtc {
		return nil
	}
	h := make([]proxy.Header, 0, 2)
	if in.TRTCAppID != "" {
		h = append(h, proxy.Header{Name: headerSdkAppID, Value: in.TRTCAppID})
	}
	if in.TRTCSign != "" {
		h = append(h, proxy.Header{Name: headerSign, Value: in.TRTCSign})
	}
	return h
}
