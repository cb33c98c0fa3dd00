package router

import (
	"sync/atomic"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/shadow"
)

// Shadow is a route's compiled shadow: the candidate upstream its callbacks are mirrored to,
// how many, and how many mirrors may run at once. Only its in-flight counter changes after
// Compile.
type Shadow struct {
	// Upstream is the candidate, with its own breakers and connection pool; Caller calls it
	// once per mirror, without retries.
	Upstream *proxy.Upstream
	Caller   *proxy.Caller
	// Percent is the share of callbacks mirrored, 0 to 100.
	Percent float64
	// MaxInFlight bounds the mirrors of a synchronous route running at once.
	MaxInFlight int64

	inFlight atomic.Int64
}

// Mirrors reports whether the callback with this request id is mirrored.
func (s *Shadow) Mirrors(requestID string) bool { return shadow.Sampled(requestID, s.Percent) }

// Acquire takes a mirror slot and reports whether one was free; every successful Acquire
// must be paired with Release. A slow candidate fills the slots, and further mirrors are
// skipped rather than pile up.
func (s *Shadow) Acquire() bool {
	if s.inFlight.Add(1) > s.MaxInFlight {
		s.inFlight.Add(-1)
		return false
	}
	return true
}

// Release frees a slot taken by Acquire.
func (s *Shadow) Release() { s.inFlight.Add(-1) }

// InFlight returns the mirrors running now.
func (s *Shadow) InFlight() int64 { return s.inFlight.Load() }
