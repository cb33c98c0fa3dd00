package proxy

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"github.com/sony/gobreaker/v2"
)

// maxRetriesCap is go-retryablehttp's RetryMax for every upstream. The real limit is the
// route's retries, enforced in checkRetry; this only bounds a misbehaving CheckRetry.
const maxRetriesCap = 10

// Spec is what an Upstream is built from.
type Spec struct {
	Name    string
	URLs    []string
	Breaker BreakerSettings
	// MaxConns bounds the connections to each instance, busy or idle.
	MaxConns         int
	MaxResponseBytes int64
	// OnStateChange, if set, is told of every breaker transition.
	OnStateChange StateChangeFunc
	// OnQueryParamDropped, if set, is told of every incoming query parameter not sent
	// because the instance URL sets it itself (see ownQuery).
	OnQueryParamDropped QueryDropFunc
	// Logger, if set, receives go-retryablehttp's own logs (it logs every request at debug
	// level, which costs allocations on the hot path: leave it nil unless debugging).
	Logger retryablehttp.LeveledLogger
}

// Upstream is a named backend: one or more instances, each with its own breaker and
// connection pool, behind one go-retryablehttp client. It is safe for concurrent use.
type Upstream struct {
	name      string
	instances []*instance
	next      atomic.Uint32
	client    *retryablehttp.Client
	// template is the *http.Request every call copies (WithContext) to carry its state.
	// Nothing writes to it or its Header: poolTransport builds the real request.
	template *http.Request
}

// New builds an Upstream from s.
func New(s Spec) (*Upstream, error) {
	if len(s.URLs) == 0 {
		return nil, fmt.Errorf("upstream %s: no url", s.Name)
	}
	up := &Upstream{name: s.Name}
	for _, raw := range s.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			return nil, fmt.Errorf("upstream %s: %w", s.Name, err)
		}
		name := nameURL(u).String()
		up.instances = append(up.instances, &instance{
			url:     u,
			name:    name,
			breaker: newBreaker(s.Name, name, s.Breaker, s.OnStateChange),
			sender:  newSender(u, s.MaxConns, s.MaxResponseBytes, dropReporter(s)),
		})
	}
	// The template's URL is what net/http and go-retryablehttp print in their errors and logs:
	// the instance's name, never its userinfo or query, which may hold credentials.
	up.template = &http.Request{Method: http.MethodPost, URL: nameURL(up.instances[0].url), Header: http.Header{}}
	up.client = &retryablehttp.Client{
		HTTPClient: &http.Client{
			Transport: &poolTransport{up: up},
			// A redirect is an upstream misconfiguration: report it as the non-200 it is.
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		},
		RetryMax:     maxRetriesCap,
		RetryWaitMin: backoffBase,
		RetryWaitMax: backoffCap,
		CheckRetry:   checkRetry,
		Backoff:      backoff,
		// Keep the last answer: the default handler drops it and returns only an error.
		ErrorHandler: retryablehttp.PassthroughErrorHandler,
	}
	if s.Logger != nil {
		up.client.Logger = s.Logger
	}
	return up, nil
}

// Name returns the upstream's configured name.
func (u *Upstream) Name() string { return u.name }

// Available reports whether some instance's breaker would let a call through now. The
// router checks it first so that an open breaker is answered at once, without building a
// request.
func (u *Upstream) Available() bool {
	for _, inst := range u.instances {
		if inst.breaker.State() != gobreaker.StateOpen {
			return true
		}
	}
	return false
}

// pick returns the next instance in turn whose breaker is not open, or nil when all are.
func (u *Upstream) pick() *instance {
	n := uint32(len(u.instances))
	if n == 1 {
		return u.instances[0]
	}
	start := u.next.Add(1)
	for i := range n {
		inst := u.instances[(start+i)%n]
		if inst.breaker.State() != gobreaker.StateOpen {
			return inst
		}
	}
	return nil
}

// InstanceState describes one instance's breaker for the admin surface and tests.
type InstanceState struct {
	URL   string
	State gobreaker.State
}

// States returns the breaker state of every instance.
func (u *Upstream) States() []InstanceState {
	out := make([]InstanceState, len(u.instances))
	for i, inst := range u.instances {
		out[i] = InstanceState{URL: inst.name, State: inst.breaker.State()}
	}
	return out
}

// Call is one callback to forward.
type Call struct {
	Body         []byte // Tencent's exact bytes
	RawQuery     string // Tencent's query string, appended to the upstream URL
	RequestID    string // the same on every attempt, so the upstream can drop duplicates
	ForwardedFor string
	// Retries is how many further attempts may follow the first.
	Retries int
	// AttemptTimeout bounds one attempt; 0 lets it use what is left of the deadline.
	AttemptTimeout time.Duration
	// RetryOn lists the statuses retried besides connection errors.
	RetryOn []int
	// Headers are extra headers sent on every attempt, such as the idempotency key of a
	// background delivery. They cannot replace the router's own X- headers.
	Headers []Header
}

// Header is one extra request header.
type Header struct{ Name, Value string }

func (c *Call) retriesOn(status int) bool {
	for _, s := range c.RetryOn {
		if s == status {
			return true
		}
	}
	return false
}

// Forward sends the call to the upstream until it gets an answer Tencent accepts, the call's
// retries are spent, the breakers refuse, the deadline passes or ctx is cancelled. It returns
// by the deadline: each attempt's connection carries it, so no timer is needed per call.
// ctx says whether anyone still waits for the answer (a client that hung up, a shutdown).
func (u *Upstream) Forward(ctx context.Context, deadline time.Time, call *Call) Result {
	st := &callState{call: call, deadline: deadline}
	// The request only carries the call state through go-retryablehttp to poolTransport,
	// which sends the call itself: no URL to parse, no body reader to rewind.
	req := &retryablehttp.Request{Request: u.template.WithContext(withCallState(ctx, st))}
	resp, err := u.client.Do(req)
	if resp != nil {
		resp.Body.Close()
	}
	res := Result{Status: st.status, Attempts: st.attempts, Instance: st.instance, Err: connectionError(err)}
	switch {
	case err == nil && st.failure == nil && resp != nil:
		res.Body = st.body
		return res
	case st.failure != nil && err == nil:
		res.Err = st.failure
	}
	res.Reason = failureReason(ctx, st, res.Err)
	return res
}

// dropReporter binds the upstream's name to its OnQueryParamDropped, nil when there is none.
func dropReporter(s Spec) func(param, requestID string) {
	if s.OnQueryParamDropped == nil {
		return nil
	}
	return func(param, requestID string) { s.OnQueryParamDropped(s.Name, param, requestID) }
}

// nameURL is u without userinfo, query or fragment: how an instance is named in logs,
// metrics and errors, since the rest may carry credentials.
func nameURL(u *url.URL) *url.URL { return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path} }

// connectionError strips net/http's `Post "<url>": ` wrapping from err. Its URL is the
// template's, not the instance the attempt went to (Result.Instance names that one), and the
// cause is all an operator needs.
func connectionError(err error) error {
	if uerr, ok := err.(*url.Error); ok {
		return uerr.Err
	}
	return err
}

// failureReason names why a forward failed, in the order that explains it best to an
// operator: a deadline beats everything, then breakers, then the upstream's own errors. The
// deadline is checked on the clock too: the connection's deadline may fire a moment before
// the context's timer does.
func failureReason(ctx context.Context, st *callState, err error) Reason {
	switch {
	case ctx.Err() != nil:
		return ReasonClientGone
	case !time.Now().Before(st.deadline):
		return ReasonTimeout
	case st.refused || isBreakerRefusal(err):
		return ReasonBreakerOpen
	}
	return ReasonUpstreamError
}
