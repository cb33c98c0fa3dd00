package proxy

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"
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

// newBreaker returns the breaker every attempt on one instance runs through: an attempt
// fails when no answer comes back or the answer is not one Tencent accepts (see
// answerFailure). It keeps mirror in step with its state.
func newBreaker(upstream, instance string, s BreakerSettings, mirror *stateMirror, onChange StateChangeFunc) *gobreaker.CircuitBreaker[*http.Response] {
	return gobreaker.NewCircuitBreaker[*http.Response](gobreaker.Settings{
		Name:        instance,
		MaxRequests: s.HalfOpenRequests,
		Timeout:     s.OpenFor,
		ReadyToTrip: func(c gobreaker.Counts) bool { return c.ConsecutiveFailures >= s.ConsecutiveFailures },
		IsExcluded:  isExcluded,
		OnStateChange: func(_ string, from, to gobreaker.State) {
			mirror.set(to, s.OpenFor)
			if onChange != nil {
				onChange(upstream, instance, from, to)
			}
		},
	})
}

// stateMirror is a lock-free copy of whether a breaker is open, for the checks every call
// makes before any attempt (Available, and pick among several instances): asking gobreaker
// takes its mutex and reads the clock, which every callback on every core would then
// contend for. It is written in OnStateChange, under the breaker's lock. gobreaker turns an
// open breaker half-open lazily, when a call next asks it after open_for; so once open_for
// has passed the mirror stops refusing and lets that call reach the breaker, which then
// decides (and the transition resets the mirror).
type stateMirror struct {
	open  atomic.Bool
	until atomic.Int64 // when an open breaker lets probes through, in Unix nanoseconds
}

func (m *stateMirror) set(to gobreaker.State, openFor time.Duration) {
	if to == gobreaker.StateOpen {
		m.until.Store(time.Now().Add(openFor).UnixNano())
	}
	m.open.Store(to == gobreaker.StateOpen)
}

// refusing reports whether the breaker is open and would refuse a call now.
func (m *stateMirror) refusing() bool {
	return m.open.Load() && time.Now().UnixNano() < m.until.Load()
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
