package proxy

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/callback-router/callback-router/internal/backoff"
)

// Retry timing. Backoffs are short because the whole exchange must fit Tencent's 2 s window.
const (
	backoffBase = 10 * time.Millisecond
	backoffCap  = 100 * time.Millisecond
	// minAttemptBudget is the least time an attempt needs to be worth starting: a retry is
	// not begun when less than this would be left after its backoff, since its answer
	// would come too late to be used.
	minAttemptBudget = 50 * time.Millisecond
)

// Headers the router sets on every attempt (DESIGN.md, "Forward"), in canonical form.
const (
	headerAttempt      = "X-Callback-Attempt"
	headerDeadlineMs   = "X-Callback-Deadline-Ms"
	headerRequestID    = "X-Request-Id"
	headerForwardedFor = "X-Forwarded-For"
	headerContentType  = "Content-Type"
	headerCommand      = "X-Callback-Command"
	headerApp          = "X-Callback-App"
)

// retryRules is a policy's retry decision, compiled once per policy.
type retryRules struct {
	on statusSet
	// waitMax is the longest backoff the policy ever waits (before its last retry); a retry
	// starts only while the deadline leaves that much plus minAttemptBudget.
	waitMax time.Duration
}

func newRetryRules(p Policy) *retryRules {
	r := &retryRules{waitMax: backoffMax(p.Retries)}
	for _, s := range p.RetryOn {
		r.on.add(s)
	}
	return r
}

// checkRetry is go-retryablehttp's CheckRetry; go-retryablehttp itself stops after the
// policy's retries (RetryMax). It retries connection errors (not an answer over
// max_response_bytes, which would come back just as large, nor a 200 without Tencent's
// envelope: that is a broken upstream, not a transient one), attempts cut by
// attempt_timeout and the listed statuses — and only while the deadline leaves room for the longest
// backoff plus minAttemptBudget, so that an attempt the deadline cannot hold is never
// started and the deadline never lands in a backoff (which would lose the last answer).
func (r *retryRules) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if err != nil {
		if !retryable(err) {
			return false, nil
		}
	} else if !r.on.has(resp.StatusCode) {
		return false, nil // an answer kept, the usual case: decided without the clock
	}
	if ctx.Err() != nil {
		return false, nil
	}
	deadline, ok := ctx.Deadline()
	return !ok || time.Until(deadline) >= r.waitMax+minAttemptBudget, nil
}

// retryable reports whether an attempt that got no answer is worth another.
func retryable(err error) bool {
	switch {
	case isBreakerRefusal(err), errors.Is(err, context.Canceled), errors.Is(err, ErrTooLarge), errors.Is(err, ErrBadEnvelope):
		return false
	case errors.As(err, new(*attemptTimeoutError)):
		return true
	case errors.Is(err, context.DeadlineExceeded):
		return false
	}
	return true // the connection failed: refused, reset, closed
}

// backoffMax is the longest wait before attempt n+1: exponential from backoffBase, capped.
func backoffMax(n int) time.Duration { return backoff.Ceiling(backoffBase, backoffCap, n) }

// jitteredBackoff is go-retryablehttp's Backoff: the product's jittered wait
// (backoff.Jittered), doubling from RetryWaitMin with each attempt up to RetryWaitMax, so
// retries of many callbacks after one upstream blip do not arrive together. checkRetry has
// made sure the deadline leaves room for RetryWaitMax.
func jitteredBackoff(waitMin, waitMax time.Duration, attemptNum int, _ *http.Response) time.Duration {
	return backoff.Jittered(waitMin, waitMax, attemptNum+1)
}

// stampAttempt is go-retryablehttp's RequestLogHook, which it calls before every attempt:
// it numbers the attempt and says how much of the deadline is left. The request's header
// map is the call's own (go-retryablehttp copies the request, not the map, for a retry),
// so the caller reads the number of the last attempt from it afterwards.
func stampAttempt(_ retryablehttp.Logger, req *http.Request, retry int) {
	setHeader(req.Header, headerAttempt, strconv.Itoa(retry+1))
	if deadline, ok := req.Context().Deadline(); ok {
		setHeader(req.Header, headerDeadlineMs, strconv.FormatInt(time.Until(deadline).Milliseconds(), 10))
	}
}

// setHeader sets a canonical header, reusing its value slot when it has one.
func setHeader(h http.Header, name, value string) {
	if v := h[name]; len(v) == 1 {
		v[0] = value
		return
	}
	h[name] = []string{value}
}

// attemptsOf is the number of the last attempt stamped on a call's headers, 0 when none was.
func attemptsOf(h http.Header) int {
	if v := h[headerAttempt]; len(v) == 1 {
		n, _ := strconv.Atoi(v[0])
		return n
	}
	return 0
}

// statusSet is a set of HTTP statuses (100–639).
type statusSet [10]uint64

func (s *statusSet) add(code int) {
	if code >= 0 && code < 640 {
		s[code/64] |= 1 << (code % 64)
	}
}

func (s *statusSet) has(code int) bool {
	return code >= 0 && code < 640 && s[code/64]&(1<<(code%64)) != 0
}
