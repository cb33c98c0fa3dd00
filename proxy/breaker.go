package proxy

import (
	"context"
	"errors"
	"time"

	"github.com/sony/gobreaker/v2"
)

// BreakerSettings configures the breaker of one upstream instance.
type BreakerSettings struct {
	// ConsecutiveFailures opens the breaker after that many failed attempts in a row.
	ConsecutiveFailures uint32
	// OpenFor is how long an open breaker refuses calls before it lets probes through.
	OpenFor time.Duration
	// HalfOpenRequests is how many probes a half-open breaker lets through; that many
	// successes close it, one failure opens it again.
	HalfOpenRequests uint32
}

// StateChangeFunc is told of every breaker transition. It runs under the breaker's lock:
// it must not call back into the breaker.
type StateChangeFunc func(upstream, instance string, from, to gobreaker.State)

func newBreaker(upstream, instance string, s BreakerSettings, onChange StateChangeFunc) *gobreaker.CircuitBreaker[struct{}] {
	st := gobreaker.Settings{
		Name:        instance,
		MaxRequests: s.HalfOpenRequests,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.ConsecutiveFailures },
		IsExcluded:  isExcluded,
	}
	if onChange != nil {
		st.OnStateChange = func(_ string, from, to gobreaker.State) { onChange(upstream, instance, from, to) }
	}
	return gobreaker.NewCircuitBreaker[struct{}](st)
}

// isExcluded keeps a call that Tencent abandoned out of the breaker's counts: context.Canceled
// means the caller went away (or the router is shutting down), which says nothing about the
// upstream. A deadline that passed is a real timeout and does count.
func isExcluded(err error) bool {
	return errors.Is(err, context.Canceled)
}

// isBreakerRefusal reports whether err is a breaker refusing a call: open, or half-open with
// its probes already out.
func isBreakerRefusal(err error) bool {
	return errors.Is(err, gobreaker.ErrOpenState) || errors.Is(err, gobreaker.ErrTooManyRequests) || errors.Is(err, ErrBreakerOpen)
}
