package backoff

import (
	"testing"
	"time"
)

func TestCeiling(t *testing.T) {
	tests := []struct {
		name        string
		base, limit time.Duration
		n           int
		want        time.Duration
	}{
		{"first retry", 10 * time.Millisecond, time.Second, 0, 10 * time.Millisecond},
		{"doubles", 10 * time.Millisecond, time.Second, 3, 80 * time.Millisecond},
		{"just below the limit", 10 * time.Millisecond, 160 * time.Millisecond, 4, 160 * time.Millisecond},
		{"capped", 10 * time.Millisecond, 100 * time.Millisecond, 4, 100 * time.Millisecond},
		{"large n does not overflow", 200 * time.Millisecond, time.Minute, 1000, time.Minute},
		{"n 62 does not overflow", time.Second, time.Hour, 62, time.Hour},
		{"base above the limit", 2 * time.Second, time.Second, 0, time.Second},
		{"negative n counts as the first", 10 * time.Millisecond, time.Second, -1, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Ceiling(tt.base, tt.limit, tt.n); got != tt.want {
				t.Errorf("Ceiling(%s, %s, %d) = %s, want %s", tt.base, tt.limit, tt.n, got, tt.want)
			}
		})
	}
}

func TestJitteredStaysWithinHalfAndWholeCeiling(t *testing.T) {
	base, limit := 100*time.Millisecond, time.Second
	for _, n := range []int{0, 1, 2, 3, 10, 1000} {
		c := Ceiling(base, limit, n)
		lo, hi := c, time.Duration(0)
		for range 200 {
			got := Jittered(base, limit, n)
			if got < c/2 || got > c {
				t.Fatalf("Jittered(n=%d) = %s, want within [%s, %s]", n, got, c/2, c)
			}
			lo, hi = min(lo, got), max(hi, got)
		}
		if lo == hi {
			t.Errorf("Jittered(n=%d) gave %s 200 times: want jitter", n, lo)
		}
	}
}
