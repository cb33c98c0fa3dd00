// Package backoff is the one jittered exponential backoff of the router: the quick retries
// inside an upstream call (package proxy) and the redeliveries of a queued callback
// (package delivery) both wait what it computes. Each caller keeps its own bounds: a few
// milliseconds inside Tencent's 2 s window, up to minutes between redeliveries.
package backoff

import (
	"math/rand/v2"
	"time"
)

// Ceiling is the longest wait before retry n (0 for the first): base doubled n times, at
// most limit. It is limit when base is not below it, and never overflows however large n.
func Ceiling(base, limit time.Duration, n int) time.Duration {
	n = max(n, 0)
	if n >= 63 || base > limit>>n {
		return limit
	}
	return base << n
}

// Jittered is a wait in [c/2, c] before retry n, c being Ceiling(base, limit, n). The jitter
// keeps callbacks that failed together (one upstream blip) from all coming back together.
func Jittered(base, limit time.Duration, n int) time.Duration {
	c := Ceiling(base, limit, n)
	return c/2 + rand.N(c/2+1)
}
