package proxy

import (
	"context"
	"crypto/tls"
	"errors"
	"net/url"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// Connection tuning for upstream calls.
const (
	// maxIdleConnDuration closes keep-alive connections idle this long, shorter than the idle
	// timeouts of common servers (nginx 75 s, Go's often 60–120 s), so that the router rarely
	// picks a connection the upstream has just closed.
	maxIdleConnDuration = 10 * time.Second
	userAgent           = "callback-router"
)

// sender sends one attempt to one upstream instance over fasthttp's client: pooled requests
// and connections, deadlines set on the connection rather than with a goroutine per call, so
// a hung upstream costs a parked connection and nothing more.
type sender struct {
	client  *fasthttp.HostClient
	baseURI string // scheme://host/path, without query
	query   ownQuery
	// onDrop, if set, is told of an incoming parameter left out because the URL sets it.
	onDrop func(param, requestID string)
}

func newSender(u *url.URL, maxConns int, maxResponseBytes int64, onDrop func(param, requestID string)) *sender {
	isTLS := u.Scheme == "https"
	addr := u.Host
	if u.Port() == "" {
		addr += map[bool]string{true: ":443", false: ":80"}[isTLS]
	}
	base := *u
	base.RawQuery, base.ForceQuery = "", false
	return &sender{
		client: &fasthttp.HostClient{
			Addr:                addr,
			Name:                userAgent,
			IsTLS:               isTLS,
			TLSConfig:           &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12},
			MaxConns:            maxConns,
			MaxIdleConnDuration: maxIdleConnDuration,
			MaxResponseBodySize: int(maxResponseBytes),
			// Retries are the router's decision (checkRetry), never the client's.
			RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		},
		baseURI: base.String(),
		query:   newOwnQuery(u.RawQuery),
		onDrop:  onDrop,
	}
}

// attemptBuffer is stack scratch for the numbers written into headers.
type attemptBuffer [20]byte

// send posts the call to the instance and returns the status and a copy of the body. It
// returns an error only when no HTTP answer came back: the attempt's deadline passed (as
// context.DeadlineExceeded, or an attemptTimeoutError when attempt_timeout cut it), the
// caller went away (context.Canceled), or the connection failed.
func (s *sender) send(ctx context.Context, st *callState) (int, []byte, error) {
	deadline, cut := st.deadline, false
	if d := st.call.AttemptTimeout; d > 0 {
		if at := time.Now().Add(d); at.Before(deadline) {
			deadline, cut = at, true
		}
	}
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)

	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(s.baseURI)
	req.URI().SetQueryString(s.queryFor(st))
	h := &req.Header
	h.SetContentType("application/json")
	h.Set("X-Request-Id", st.call.RequestID)
	var num attemptBuffer
	h.SetBytesV("X-Callback-Attempt", strconv.AppendInt(num[:0], int64(st.attempts), 10))
	h.SetBytesV("X-Callback-Deadline-Ms", strconv.AppendInt(num[:0], time.Until(st.deadline).Milliseconds(), 10))
	if st.call.ForwardedFor != "" {
		h.Set("X-Forwarded-For", st.call.ForwardedFor)
	}
	for _, x := range st.call.Headers {
		if len(h.Peek(x.Name)) == 0 {
			h.Set(x.Name, x.Value)
		}
	}
	req.SetBodyRaw(st.call.Body)

	err := s.client.DoDeadline(req, resp, deadline)
	switch {
	case err == nil:
		return resp.StatusCode(), append([]byte(nil), resp.Body()...), nil
	case ctx.Err() == context.Canceled:
		return 0, nil, context.Canceled
	case errors.Is(err, fasthttp.ErrTimeout) || errors.Is(err, fasthttp.ErrDialTimeout):
		if cut && time.Now().Before(st.deadline) {
			return 0, nil, &attemptTimeoutError{err}
		}
		return 0, nil, context.DeadlineExceeded
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return 0, nil, ErrTooLarge
	}
	return 0, nil, err
}

// queryFor returns the query the call sends to this instance, merged once per call and
// instance: retries to the same instance neither merge nor report drops again.
func (s *sender) queryFor(st *callState) string {
	if st.querySender != s {
		st.querySender = s
		st.query = s.query.merge(st.call.RawQuery, st.call.RequestID, s.onDrop)
	}
	return st.query
}

// closeIdle closes the instance's idle connections (the upstream left the config).
func (s *sender) closeIdle() { s.client.CloseIdleConnections() }
