package proxy

import (
	"context"
	"net/http"
	"net/url"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/tencent"
)

// instance is one URL of an upstream, with its own breaker and connection pool.
type instance struct {
	url     *url.URL
	name    string // url without query, for logs and metrics
	breaker *gobreaker.CircuitBreaker[struct{}]
	sender  *sender
}

// poolTransport is the http.RoundTripper go-retryablehttp calls for each attempt. It picks the
// next instance whose breaker is not open and runs the attempt through that breaker. The
// attempt itself goes out through the instance's fasthttp sender, which takes the callback
// from the call state rather than from the *http.Request: go-retryablehttp stays the retry
// engine, while the bytes move over a faster client.
//
// It deliberately does not implement CloseIdleConnections: go-retryablehttp calls that after
// every failed request, which would tear down the pool every callback shares.
type poolTransport struct {
	up *Upstream
}

var _ http.RoundTripper = (*poolTransport)(nil)

func (t *poolTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	ctx := req.Context()
	st := callStateFrom(ctx)
	if st == nil {
		return nil, errNoCallState
	}
	inst := t.up.pick()
	if inst == nil {
		st.refused = true
		return nil, ErrBreakerOpen
	}
	var answered bool
	_, err := inst.breaker.Execute(func() (struct{}, error) {
		st.attempts++
		st.instance = inst.name
		st.status, st.body, st.failure = 0, nil, nil
		status, body, err := inst.sender.send(ctx, st)
		if err != nil {
			return struct{}{}, err
		}
		answered = true
		st.status, st.body, st.failure = status, body, answerFailure(status, body, st.call.StatusOnly)
		return struct{}{}, st.failure
	})
	if isBreakerRefusal(err) {
		st.refused = true
		return nil, err
	}
	if !answered {
		return nil, err
	}
	// go-retryablehttp needs a response to judge; the body stays in the call state.
	return &http.Response{StatusCode: st.status, Body: http.NoBody, Request: req}, nil
}

// answerFailure says why an HTTP answer cannot go back to Tencent, nil when it can: a 200,
// whose body is Tencent's envelope unless statusOnly.
func answerFailure(status int, body []byte, statusOnly bool) error {
	switch {
	case status != http.StatusOK:
		return ErrStatus
	case !statusOnly && !tencent.IsEnvelope(body):
		return ErrBadEnvelope
	}
	return nil
}

// attemptTimeoutError marks an attempt cut by attempt_timeout, so that it is retried while the
// route's deadline still has room.
type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string { return "attempt_timeout reached: " + e.err.Error() }
func (e *attemptTimeoutError) Is(target error) bool {
	return target == errAttemptTimer || target == context.DeadlineExceeded
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }
