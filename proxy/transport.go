package proxy

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/tencent"
)

// Transport tuning: a proxy in front of a busy backend needs far more idle connections than
// net/http's default of 2 per host, or every burst opens (and then closes) new connections.
const (
	dialTimeout     = 1 * time.Second
	idleConnTimeout = 90 * time.Second
	keepAlive       = 30 * time.Second
)

// instance is one URL of an upstream, with its own breaker and connection pool.
type instance struct {
	url       *url.URL
	name      string // url without query, for logs and metrics
	breaker   *gobreaker.CircuitBreaker[struct{}]
	transport http.RoundTripper
}

func newHTTPTransport(maxIdle int) *http.Transport {
	dialer := &net.Dialer{Timeout: dialTimeout, KeepAlive: keepAlive}
	return &http.Transport{
		Proxy:               nil, // the upstream is addressed directly, never through $HTTP_PROXY
		DialContext:         dialer.DialContext,
		MaxIdleConns:        maxIdle,
		MaxIdleConnsPerHost: maxIdle,
		IdleConnTimeout:     idleConnTimeout,
		TLSHandshakeTimeout: dialTimeout,
		// The body goes back to Tencent byte for byte; a transparent gunzip would change it.
		DisableCompression: true,
	}
}

// poolTransport is the http.RoundTripper go-retryablehttp calls for each attempt. It picks the
// next instance whose breaker is not open, runs the attempt through that breaker, and reads
// the answer (bounded) so that a 200 without a valid envelope counts as a failure too.
//
// It deliberately does not implement CloseIdleConnections: go-retryablehttp calls that after
// every failed request, which would tear down the pool every callback shares.
type poolTransport struct {
	up *Upstream
}

var _ http.RoundTripper = (*poolTransport)(nil)

func (t *poolTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	st := callStateFrom(req.Context())
	if st == nil {
		return nil, errNoCallState
	}
	inst := t.up.pick()
	if inst == nil {
		st.refused = true
		return nil, ErrBreakerOpen
	}
	var resp *http.Response
	_, err := inst.breaker.Execute(func() (struct{}, error) {
		st.attempts++
		st.instance = inst.name
		st.status, st.body, st.failure = 0, nil, nil
		var err error
		resp, err = t.attempt(inst, req, st)
		if err != nil {
			return struct{}{}, err
		}
		return struct{}{}, st.failure
	})
	if isBreakerRefusal(err) {
		st.refused = true
		return nil, err
	}
	if resp == nil {
		return nil, err
	}
	return resp, nil
}

// attempt sends one request to inst and buffers its answer. It returns an error only when no
// HTTP answer came back; an answer Tencent would not accept is recorded in st.failure.
func (t *poolTransport) attempt(inst *instance, req *http.Request, st *callState) (*http.Response, error) {
	out := req.Clone(req.Context())
	out.URL = inst.urlWithQuery(st.call.RawQuery)
	out.Host = ""
	out.Header.Set("X-Callback-Attempt", strconv.Itoa(st.attempts))
	out.Header.Set("X-Callback-Deadline-Ms", strconv.FormatInt(time.Until(st.deadline).Milliseconds(), 10))

	if d := st.call.AttemptTimeout; d > 0 && d < time.Until(st.deadline) {
		ctx, cancel := context.WithTimeoutCause(req.Context(), d, errAttemptTimer)
		defer cancel()
		out = out.WithContext(ctx)
	}
	resp, err := inst.transport.RoundTrip(out)
	if err != nil {
		return nil, attemptError(out.Context(), err)
	}
	body, err := readBounded(resp.Body, t.up.maxResponseBytes)
	resp.Body.Close()
	if err != nil {
		return nil, attemptError(out.Context(), err)
	}
	st.status, st.body = resp.StatusCode, body
	switch {
	case int64(len(body)) > t.up.maxResponseBytes:
		st.failure, st.body = ErrTooLarge, nil
	case resp.StatusCode != http.StatusOK:
		st.failure = ErrStatus
	case !tencent.IsEnvelope(body):
		st.failure = ErrBadEnvelope
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	return resp, nil
}

// attemptError names an attempt cut by attempt_timeout, so that it is retried while the
// route's deadline still has room.
func attemptError(ctx context.Context, err error) error {
	if context.Cause(ctx) == errAttemptTimer {
		return &attemptTimeoutError{err}
	}
	return err
}

type attemptTimeoutError struct{ err error }

func (e *attemptTimeoutError) Error() string { return "attempt_timeout reached: " + e.err.Error() }
func (e *attemptTimeoutError) Is(target error) bool {
	return target == errAttemptTimer || target == context.DeadlineExceeded
}
func (e *attemptTimeoutError) Unwrap() error { return e.err }

// readBounded reads at most limit+1 bytes, so that an oversized answer is detected without
// holding more than that in memory.
func readBounded(r io.Reader, limit int64) ([]byte, error) {
	var buf bytes.Buffer
	_, err := buf.ReadFrom(io.LimitReader(r, limit+1))
	return buf.Bytes(), err
}

// urlWithQuery returns the instance URL with Tencent's query string appended to whatever
// query the configured URL already has.
func (i *instance) urlWithQuery(rawQuery string) *url.URL {
	u := *i.url
	switch {
	case u.RawQuery == "":
		u.RawQuery = rawQuery
	case rawQuery != "":
		u.RawQuery = u.RawQuery + "&" + rawQuery
	}
	return &u
}
