package proxy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/callback-router/callback-router/tencent"
	"github.com/callback-router/callback-router/tracing"
)

// transport is the http.RoundTripper under go-retryablehttp: one RoundTrip is one attempt.
// It picks the next instance whose breaker is not open, runs the attempt through that
// instance's breaker, and converts the request to fasthttp's and the answer back. The
// request's URL names the upstream, not an instance (http://<upstream>/?<Tencent's query>);
// the answer's Request is the request as sent, its URL the instance's name.
//
// One transport serves one policy and one kind of callback: attemptTimeout is the route's
// attempt_timeout (0: an attempt may use what is left of the request context's
// deadline). Every transport of an upstream shares its instances, so breakers and
// connection pools are per instance whatever the route.
//
// It deliberately does not implement CloseIdleConnections: go-retryablehttp calls that after
// every failed request, which would tear down the pools every callback shares. A reload
// closes them through Upstream.CloseIdleConnections instead.
//
// An answer goes up as the *http.Response it is, with one exception: a 200 whose body is not
// Tencent's envelope (a JSON object with an integer ErrorCode) is malformed for this
// protocol and comes back as an error, ErrBadEnvelope, so that it is judged once. A TRTC
// event's call (Call.StatusOnly) takes any 200: TRTC needs the status only.
//
// The transport is where a per-attempt concern that needs the answer belongs (a tracing span
// around the attempt); one that only stamps the request belongs in stampAttempt.
type transport struct {
	up             *Upstream
	attemptTimeout time.Duration
	statusOnly     bool // any 200 is the answer (TRTC's events), not only Tencent's envelope
}

var _ http.RoundTripper = (*transport)(nil)

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	inst := t.up.pick()
	if inst == nil {
		closeBody(req)
		return nil, ErrBreakerOpen
	}
	if t.up.tracer != nil {
		return t.tracedAttempt(req, inst)
	}
	return t.attempt(req, inst)
}

// tracedAttempt runs the attempt in a span of its own, a child of the span in the request's
// context, and tells the instance that span in traceparent (and tracestate). Under an
// unsampled callback there is no attempt span: the instance is told the callback's.
func (t *transport) tracedAttempt(req *http.Request, inst *instance) (*http.Response, error) {
	ctx, span := t.up.tracer.StartAttempt(req.Context(), t.up.name, attemptsOf(req.Header))
	tracing.Inject(ctx, req.Header.Set)
	resp, err := t.attempt(req, inst)
	if span.IsRecording() { // an unsampled callback's attempts cost no breaker lock
		a := tracing.Attempt{Instance: inst.name, Breaker: inst.breaker.State().String(), Err: err}
		if resp != nil {
			a.Status = resp.StatusCode
			if a.Status != http.StatusOK {
				a.Err = ErrStatus
			}
		}
		tracing.EndAttempt(span, a)
	}
	return resp, err
}

// attempt runs one attempt through the instance's breaker.
func (t *transport) attempt(req *http.Request, inst *instance) (*http.Response, error) {
	resp, err := inst.breaker.Execute(func() (*http.Response, error) {
		resp, body, err := inst.attempt(req, t.attemptTimeout)
		switch {
		case err != nil:
			return nil, err
		case resp.StatusCode != http.StatusOK:
			// A failure for the breaker, but still the answer: CheckRetry judges its status.
			return resp, ErrStatus
		case !t.statusOnly && !tencent.IsEnvelope(body):
			// A 200 that is not Tencent's envelope is a malformed answer for this protocol,
			// reported as an error like any other malformed response: judged once, here.
			resp.Body.Close()
			return nil, &attemptError{instance: inst.name, err: ErrBadEnvelope}
		}
		return resp, nil
	})
	if resp != nil {
		return resp, nil
	}
	if isBreakerRefusal(err) {
		closeBody(req)
		return nil, &attemptError{instance: inst.name, err: err}
	}
	return nil, err
}

// attempt sends req to the instance with fasthttp and returns its answer as an
// *http.Response, with the body's bytes (valid until the response's Body is closed). It
// returns an error only when no HTTP answer came back; the error is an *attemptError naming
// the instance.
func (inst *instance) attempt(req *http.Request, attemptTimeout time.Duration) (*http.Response, []byte, error) {
	// No defers and no error paths inline: this frame is under the wait for the upstream
	// (see Caller.Forward).
	at, cut, deadline, err := attemptDeadline(req, attemptTimeout)
	if err != nil {
		closeBody(req)
		return nil, nil, &attemptError{instance: inst.name, err: err}
	}
	freq := fasthttp.AcquireRequest()
	err = inst.request(freq, req)
	closeBody(req)
	if err != nil {
		fasthttp.ReleaseRequest(freq)
		return nil, nil, &attemptError{instance: inst.name, err: err}
	}
	fresp := fasthttp.AcquireResponse()
	err = inst.client.DoDeadline(freq, fresp, at)
	fasthttp.ReleaseRequest(freq)
	if err != nil {
		fasthttp.ReleaseResponse(fresp)
		return nil, nil, inst.failed(req, err, cut, deadline)
	}
	return inst.response(req, fresp), fresp.Body(), nil
}

// attemptDeadline is when an attempt must end: the call's deadline, or sooner when
// attempt_timeout cuts it.
func attemptDeadline(req *http.Request, attemptTimeout time.Duration) (at time.Time, cut bool, deadline time.Time, err error) {
	deadline, ok := req.Context().Deadline()
	if !ok {
		return at, false, deadline, errNoDeadline
	}
	at = deadline
	if attemptTimeout > 0 {
		if a := time.Now().Add(attemptTimeout); a.Before(deadline) {
			at, cut = a, true
		}
	}
	return at, cut, deadline, nil
}

// failed is the error of an attempt that got no answer.
func (inst *instance) failed(req *http.Request, err error, cut bool, deadline time.Time) error {
	return &attemptError{instance: inst.name, err: attemptFailure(req.Context(), err, cut, deadline)}
}

// request converts req into freq: method, the instance's URL with req's query merged into
// the instance's own, every header, the body — which is a callback's JSON, so the
// Content-Type is the transport's to write, not each request's to carry (net/http's Client
// copies every header of every request it is given).
func (inst *instance) request(freq *fasthttp.Request, req *http.Request) error {
	freq.Header.SetMethod(req.Method)
	freq.SetURI(inst.uri)
	freq.URI().SetQueryString(inst.own.merge(req.URL.RawQuery, "", nil))
	freq.Header.SetContentTypeBytes(jsonContentType)
	for name, values := range req.Header {
		for _, v := range values {
			freq.Header.Add(name, v)
		}
	}
	if req.Body == nil || req.Body == http.NoBody {
		return nil
	}
	_, err := io.Copy(freq.BodyWriter(), req.Body)
	return err
}

// response converts fresp into an *http.Response whose Body reads fresp's body and releases
// fresp when closed. Of the headers it keeps the one that matters to the client above:
// Location, so that net/http sees a redirect for what it is (see CheckRedirect); Header is
// nil when the answer has none. Request is the request as sent: the instance's URL (named
// without credentials), the call's context and headers.
func (inst *instance) response(req *http.Request, fresp *fasthttp.Response) *http.Response {
	a := answerPool.Get().(*answer)
	a.sent = *req
	a.sent.URL, a.sent.Host, a.sent.Body, a.sent.GetBody = inst.nameURL, inst.nameURL.Host, nil, nil
	a.body.resp, a.body.answer = fresp, a
	a.body.r.Reset(fresp.Body())
	status := fresp.StatusCode()
	a.resp = http.Response{
		Status:     statusLine(status),
		StatusCode: status,
		Proto:      "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		ContentLength: int64(len(fresp.Body())),
		Body:          &a.body,
		Request:       &a.sent,
	}
	if loc := fresp.Header.Peek("Location"); len(loc) > 0 {
		a.resp.Header = http.Header{"Location": {string(loc)}}
	}
	return &a.resp
}

var jsonContentType = []byte("application/json")

// answer is what one answer needs, allocated together and reused (answerPool): the
// caller gives back the final answer with closeAnswer; one a retry replaced is left to the
// collector, since go-retryablehttp may still read it after closing its body.
type answer struct {
	resp http.Response
	body answerBody
	sent http.Request
}

var answerPool = sync.Pool{New: func() any { return new(answer) }}

// closeAnswer closes the final answer of a call and reuses its memory. Nothing may read
// resp afterwards.
func closeAnswer(resp *http.Response) {
	resp.Body.Close()
	if b, ok := resp.Body.(*answerBody); ok {
		a := b.answer
		*a = answer{}
		answerPool.Put(a)
	}
}

func statusLine(code int) string {
	if code == http.StatusOK {
		return "200 OK"
	}
	return strconv.Itoa(code) + " " + http.StatusText(code)
}

// answerBody is an answer's body as fasthttp read it: reading it copies nothing more, and
// Close gives the fasthttp response back to its pool.
type answerBody struct {
	resp   *fasthttp.Response
	r      bytes.Reader
	answer *answer // the block it is part of
}

func (b *answerBody) Read(p []byte) (int, error)         { return b.r.Read(p) }
func (b *answerBody) WriteTo(w io.Writer) (int64, error) { return b.r.WriteTo(w) }

func (b *answerBody) Close() error {
	if b.resp != nil {
		b.r.Reset(nil)
		fasthttp.ReleaseResponse(b.resp)
		b.resp = nil
	}
	return nil
}

// attemptFailure names why fasthttp got no answer: the attempt's deadline passed (as an
// *attemptTimeoutError when attempt_timeout cut it short of the call's deadline, else
// context.DeadlineExceeded), the caller went away (context.Canceled: it does not count
// against the breaker), the answer was too large, or the connection failed.
func attemptFailure(ctx context.Context, err error, cut bool, deadline time.Time) error {
	switch {
	case ctx.Err() == context.Canceled:
		return context.Canceled
	case errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout):
		if cut && time.Now().Before(deadline) {
			return &attemptTimeoutError{err: err}
		}
		return context.DeadlineExceeded
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return ErrTooLarge
	}
	return unquoted{err}
}

// unquoted is a failure told without what its text quotes. fasthttp quotes the bytes it
// read when it cannot parse an answer ("invalid response status code %q: response %q",
// "contents: %q"), and an upstream that echoes its request (a TCP echo on the wrong port, a
// debugging stub) sends back Tencent's query, Sign included, the URL's own api_key and the
// body: the router logs this text. Only the words before the first quote are kept; errors.Is
// and errors.As still see the cause.
type unquoted struct{ err error }

func (e unquoted) Error() string {
	text, _, quoted := strings.Cut(e.err.Error(), `"`)
	if !quoted {
		return text
	}
	return strings.TrimRight(text, " :") + " (what it quoted is left out)"
}

func (e unquoted) Unwrap() error { return e.err }

// attemptError is an attempt that got no answer from an instance. Its text is the cause's:
// the instance is named in Result.Instance, and an error text never names a URL.
type attemptError struct {
	instance string
	err      error
}

func (e *attemptError) Error() string { return e.err.Error() }
func (e *attemptError) Unwrap() error { return e.err }

// attemptTimeoutError is an attempt cut by attempt_timeout while the call's deadline still
// had room: it is retried like a connection error.
type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string { return "attempt_timeout reached: " + e.err.Error() }
func (e *attemptTimeoutError) Unwrap() error { return e.err }

// closeBody closes a request's body, as a RoundTripper must even when it fails.
func closeBody(req *http.Request) {
	if req.Body != nil {
		req.Body.Close()
	}
}
