package proxy

import (
	"context"
	"errors"
	"math/rand/v2"
	"net/http"
	"time"
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

// callState travels in the request's context through go-retryablehttp to the transport and
// back. Attempts run one after another, so its fields need no locking.
type callState struct {
	call     *Call
	deadline time.Time

	attempts int
	instance string
	status   int
	body     []byte
	failure  error // why the last attempt's answer is unusable; nil when it is usable
	refused  bool  // the last attempt was refused by breakers

	querySender *sender // the instance query was merged for
	query       string  // Tencent's query merged with that instance's own
}

type callStateKey struct{}

func withCallState(ctx context.Context, st *callState) context.Context {
	return context.WithValue(ctx, callStateKey{}, st)
}

func callStateFrom(ctx context.Context) *callState {
	st, _ := ctx.Value(callStateKey{}).(*callState)
	return st
}

// checkRetry is go-retryablehttp's CheckRetry. It retries only connection errors (not an
// answer over max_response_bytes, which would come back just as large), attempts
// cut by attempt_timeout and the statuses in the call's retry_on list (502, 503, 504 by
// default), only while the call has retries left, and only when the deadline leaves room for
// the longest backoff plus minAttemptBudget, so an attempt the deadline cannot hold is never
// started and a deadline never lands in the middle of a backoff (which would lose the last
// answer).
func checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	st := callStateFrom(ctx)
	if st == nil || ctx.Err() != nil || st.refused || !time.Now().Before(st.deadline) {
		return false, nil
	}
	switch {
	case err != nil:
		if isBreakerRefusal(err) || errors.Is(err, context.Canceled) || errors.Is(err, ErrTooLarge) ||
			(errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errAttemptTimer)) {
			return false, nil
		}
	case resp.StatusCode == http.StatusOK:
		return false, nil // a 200 with a bad envelope is a broken upstream, not a transient one
	case !st.call.retriesOn(resp.StatusCode):
		return false, nil
	}
	if st.attempts > st.call.Retries {
		return false, nil
	}
	return time.Until(st.deadline) >= backoffMax(st.attempts)+minAttemptBudget, nil
}

// backoffMax is the longest wait before attempt n+1: exponential from backoffBase, capped.
func backoffMax(n int) time.Duration {
	if n > 4 {
		return backoffCap
	}
	return min(backoffBase<<n, backoffCap)
}

// backoff is go-retryablehttp's Backoff: a jittered wait in [max/2, max] for the attempt,
// so retries of many callbacks after one upstream blip do not arrive together.
func backoff(_, _ time.Duration, attemptNum int, _ *http.Response) time.Duration {
	m := backoffMax(attemptNum + 1)
	return m/2 + rand.N(m/2+1)
}
