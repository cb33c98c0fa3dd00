package delivery

import (
	"math/rand/v2"
	"time"
)

// Backoff spaces the redeliveries of one callback: the first retry comes soon (an upstream
// blip), later ones spread out so that a long outage costs little.
type Backoff struct {
	Initial, Max time.Duration
}

// Default backoff, as config's defaults.
const (
	DefaultBackoffInitial = 200 * time.Millisecond
	DefaultBackoffMax     = time.Minute
)

// Wait returns the jittered wait before redelivery n (0 for the first): in [w/2, w] with
// w = min(Initial<<n, Max). The jitter keeps callbacks that failed together from all
// coming back together.
func (b Backoff) Wait(n int) time.Duration {
	initial, limit := b.Initial, b.Max
	if initial <= 0 {
		initial = DefaultBackoffInitial
	}
	if limit < initial {
		limit = max(initial, DefaultBackoffMax)
	}
	w := limit
	if n < 40 && initial<<n > 0 && initial<<n < limit {
		w = initial << n
	}
	return w/2 + rand.N(w/2+1)
}
