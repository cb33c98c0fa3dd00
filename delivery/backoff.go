package delivery

import (
	"errors"
	"time"

	"github.com/callback-router/callback-router/internal/backoff"
)

// Backoff spaces the redeliveries of one callback: the first retry comes soon (an upstream
// blip), later ones spread out so that a long outage costs little. Its numbers come from
// delivery.backoff; a backend refuses to open without them.
type Backoff struct {
	Initial, Max time.Duration
}

// Wait returns the jittered wait before redelivery n (0 for the first): in [w/2, w] with
// w = min(Initial<<n, Max) (backoff.Jittered). The jitter keeps callbacks that failed
// together from all coming back together.
func (b Backoff) Wait(n int) time.Duration { return backoff.Jittered(b.Initial, b.Max, n) }

// check names what is wrong with b, as config's validation would.
func (b Backoff) check() error {
	switch {
	case b.Initial <= 0:
		return errors.New("delivery.backoff.initial must be positive")
	case b.Max < b.Initial:
		return errors.New("delivery.backoff.max is shorter than delivery.backoff.initial")
	}
	return nil
}
