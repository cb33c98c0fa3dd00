package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// Policy is how a route calls its upstream.
type Policy struct {
	// Retries is how many further attempts may follow the first.
	Retries int
	// RetryOn lists the statuses retried besides connection errors and attempt timeouts.
	RetryOn []int
	// AttemptTimeout bounds one attempt; 0 lets it use what is left of the deadline.
	AttemptTimeout time.Duration
}

func (p Policy) key() string {
	k := strconv.Itoa(p.Retries) + "/" + p.AttemptTimeout.String()
	on := slices.Clone(p.RetryOn)
	slices.Sort(on)
	for _, s := range slices.Compact(on) {
		k += "/" + strconv.Itoa(s)
	}
	return k
}

// Caller calls one upstream with one policy: its go-retryablehttp clients, compiled once —
// one for Tencent's callbacks, whose answer must be Tencent's envelope, and one for TRTC's
// events, which need the status only (Call.StatusOnly). It is safe for concurrent use.
type Caller struct {
	up         *Upstream
	client     *retryablehttp.Client
	statusOnly *retryablehttp.Client
}

// Caller returns the Caller of this upstream for policy p. Callers are built once per
// policy and kept, so a route compiles its own when the table is built and background
// deliveries find theirs without building anything per call.
func (u *Upstream) Caller(p Policy) *Caller {
	key := p.key()
	u.mu.Lock()
	defer u.mu.Unlock()
	if c := u.callers[key]; c != nil {
		return c
	}
	rules := newRetryRules(p)
	c := &Caller{
		up:         u,
		client:     u.retryClient(p, rules, false),
		statusOnly: u.retryClient(p, rules, true),
	}
	u.callers[key] = c
	return c
}

// retryClient is go-retryablehttp's client for policy p over a transport of this upstream's
// instances; statusOnly takes any 200 as the answer.
func (u *Upstream) retryClient(p Policy, rules *retryRules, statusOnly bool) *retryablehttp.Client {
	c := &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &transport{up: u, attemptTimeout: p.AttemptTimeout, statusOnly: statusOnly},
			// A redirect is an upstream misconfiguration: report it as the non-200 it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryMax:       p.Retries,
		RetryWaitMin:   backoffBase,
		RetryWaitMax:   rules.waitMax,
		CheckRetry:     rules.checkRetry,
		Backoff:        jitteredBackoff,
		RequestLogHook: stampAttempt,
		// Keep the last answer: the default handler drops it and returns only an error
		// whose text carries the request's URL, and with it Tencent's query.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if u.logger != nil {
		c.Logger = u.logger
	}
	return c
}

// Upstream returns the upstream the caller calls.
func (c *Caller) Upstream() *Upstream { return c.up }

// Call is one callback to forward.
type Call struct {
	Body         []byte // Tencent's exact bytes
	RawQuery     string // Tencent's query string, appended to the upstream URL's own
	RequestID    string // the same on every attempt, so the upstream can drop duplicates
	ForwardedFor string
	// Command and App go out as X-Callback-Command and X-Callback-App: the command the
	// router routed by and the name of the callback's app, so an upstream serving several
	// commands or apps need not parse the query for them. Each is left out when empty.
	Command string
	App     string
	// Headers are extra headers sent on every attempt, such as the idempotency key of a
	// background delivery. They cannot replace the router's own (X-Request-Id,
	// X-Callback-Attempt, X-Callback-Deadline-Ms, X-Forwarded-For, X-Callback-Command,
	// X-Callback-App, Content-Type).
	Headers []Header
	// StatusOnly accepts any 200 as the answer, whatever its body: TRTC's event callbacks
	// need HTTP 200 only, and their handlers need not answer Tencent's Chat envelope.
	StatusOnly bool
}

// Header is one extra request header.
type Header struct{ Name, Value string }

// Forward sends the call to the upstream until it gets an answer Tencent accepts, the
// policy's retries are spent, the breakers refuse, the deadline passes or ctx is cancelled.
// It returns by the deadline: each attempt's connection carries it, so no goroutine waits
// per call. ctx says whether anyone still waits for the answer (a client that hung up, a
// shutdown).
func (c *Caller) Forward(ctx context.Context, deadline time.Time, call *Call) Result {
	// Lean on purpose: this frame and the ones below it are on the stack while the upstream
	// is waited for, and a callback waiting on its upstream should fit a goroutine's 8 KiB.
	c.up.reportDrops(call)
	o := newOutgoing(c, ctx, deadline, call)
	client := c.client
	if call.StatusOnly {
		client = c.statusOnly
	}
	resp, err := client.Do(&o.req)
	return c.result(ctx, deadline, o, resp, err)
}

// result reads the final answer or error of a call into its Result, closes the answer and
// releases the call's request and context.
func (c *Caller) result(ctx context.Context, deadline time.Time, o *outgoing, resp *http.Response, err error) Result {
	defer o.release()
	res := Result{Attempts: attemptsOf(o.header)}
	if resp != nil {
		defer closeAnswer(resp)
		res.Status, res.Instance = resp.StatusCode, c.up.instanceName(resp.Request)
	}
	switch {
	case err != nil:
		var ae *attemptError
		if errors.As(err, &ae) {
			res.Instance = ae.instance
		}
		switch {
		case isBreakerRefusal(err):
			res.Attempts-- // the last attempt was never sent
		case errors.Is(err, ErrBadEnvelope):
			res.Status = http.StatusOK
		}
		res.Err = cause(err)
	case resp == nil:
		res.Err = errNoAnswer
	case resp.StatusCode != http.StatusOK:
		res.Err = ErrStatus
	default: // the transport has checked that a 200 carries Tencent's envelope (unless StatusOnly)
		if res.Body, res.Err = readBody(resp); res.Err == nil {
			return res
		}
		res.Body = nil
	}
	res.Reason = failureReason(ctx, deadline, res.Err)
	return res
}

// outgoing is one call's request: http://<upstream>/?<Tencent's query>, the router's headers
// and the call's, the body, a context carrying the deadline. Its parts are reused from call
// to call (outgoingPool), the request bound to the context and to the body's reader once:
// nothing holds them once Forward returns. (net/http lets a request be reused once its
// answer's body is closed; go-retryablehttp copies it for a retry, and that copy is
// dropped.)
type outgoing struct {
	ctx    callContext
	http   *http.Request // bound to ctx; its URL, headers and length are set per call
	req    retryablehttp.Request
	url    url.URL
	header http.Header
	values [6]string // the router's header values; the attempt's are stamped by stampAttempt
	extra  []string  // the call's header values
	body   callBody
}

var outgoingPool = sync.Pool{New: func() any {
	o := &outgoing{header: make(http.Header, 8)}
	o.http = requestTemplate.WithContext(&o.ctx)
	o.req.Request = o.http
	// The body's reader, and the GetBody net/http would use, read whatever o.body holds.
	_ = o.req.SetBody(retryablehttp.ReaderFunc(o.body.rewind)) // rewinding a []byte cannot fail
	return o
}}

// requestTemplate is what every call's request starts from: method and protocol.
var requestTemplate = &http.Request{Method: http.MethodPost, Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1}

func newOutgoing(c *Caller, ctx context.Context, deadline time.Time, call *Call) *outgoing {
	o := outgoingPool.Get().(*outgoing)
	o.ctx.start(ctx, deadline)
	o.url = *c.up.url
	o.url.RawQuery = call.RawQuery
	o.values = [...]string{call.RequestID, "0", "", call.ForwardedFor, call.Command, call.App}
	v, h := o.values[:], o.header
	h[headerRequestID], h[headerAttempt], h[headerDeadlineMs] = v[0:1:1], v[1:2:2], v[2:3:3]
	if call.ForwardedFor != "" {
		h[headerForwardedFor] = v[3:4:4]
	}
	if call.Command != "" {
		h[headerCommand] = v[4:5:5]
	}
	if call.App != "" {
		h[headerApp] = v[5:6:6]
	}
	o.extra = o.extra[:0]
	for _, x := range call.Headers {
		o.extra = append(o.extra, x.Value)
	}
	for i, x := range call.Headers {
		name := textproto.CanonicalMIMEHeaderKey(x.Name)
		if _, taken := h[name]; !taken && name != headerContentType {
			h[name] = o.extra[i : i+1 : i+1]
		}
	}
	// req.Host stays empty: net/http would copy the URL to carry it (for cookies).
	r := o.http
	r.URL, r.Header, r.ContentLength = &o.url, h, int64(len(call.Body))
	o.req.Request = r // a retry last time may have left its copy there
	o.body.raw = call.Body
	return o
}

func (o *outgoing) release() {
	clear(o.header)
	clear(o.extra)
	r := o.http
	r.URL, r.Header, r.Body, r.ContentLength = nil, nil, nil, 0
	o.req.Request, o.url, o.values, o.body = r, url.URL{}, [6]string{}, callBody{}
	if o.ctx.release() {
		// Done was asked for (a retry's backoff waited on it): its timer's function may
		// still run, so this block is left to the collector rather than reused.
		return
	}
	outgoingPool.Put(o)
}

// callBody is a call's body as go-retryablehttp reads it for each attempt.
type callBody struct {
	raw []byte
	r   bytes.Reader
}

func (b *callBody) rewind() (io.Reader, error)         { b.r.Reset(b.raw); return b, nil }
func (b *callBody) Read(p []byte) (int, error)         { return b.r.Read(p) }
func (b *callBody) WriteTo(w io.Writer) (int64, error) { return b.r.WriteTo(w) }
func (b *callBody) Len() int                           { return b.r.Len() }
func (b *callBody) Close() error                       { return nil }

// readBody reads an answer's body whole, into memory the caller owns.
func readBody(resp *http.Response) ([]byte, error) {
	if n := resp.ContentLength; n >= 0 {
		body := make([]byte, n)
		_, err := io.ReadFull(resp.Body, body)
		return body, err
	}
	return io.ReadAll(resp.Body)
}

// cause strips net/http's `Post "<url>": ` wrapping from err: its URL carries Tencent's
// query (Sign included), and Result.Instance names where the attempt went.
func cause(err error) error {
	if uerr, ok := err.(*url.Error); ok {
		return uerr.Err
	}
	return err
}

// failureReason names why a forward failed, in the order that explains it best to an
// operator: a deadline beats everything, then breakers, then the upstream's own errors. The
// deadline is checked on the clock too: the connection's deadline may fire a moment before
// the context's timer does.
func failureReason(ctx context.Context, deadline time.Time, err error) Reason {
	switch {
	case ctx.Err() != nil:
		return ReasonClientGone
	case !time.Now().Before(deadline):
		return ReasonTimeout
	case isBreakerRefusal(err):
		return ReasonBreakerOpen
	}
	return ReasonUpstreamError
}
