package stats

import (
	"testing"
	"time"
)

func TestQuantiles(t *testing.T) {
	tests := []struct {
		name      string
		latencies map[time.Duration]int // latency -> callbacks
		q         float64
		wantLo    float64 // the estimate lies in [wantLo, wantHi] ms
		wantHi    float64
	}{
		{name: "empty", latencies: nil, q: 0.99, wantLo: 0, wantHi: 0},
		{name: "all fast", latencies: map[time.Duration]int{4 * time.Millisecond: 100}, q: 0.5, wantLo: 3, wantHi: 5},
		{name: "p99 sees the slow tail", latencies: map[time.Duration]int{4 * time.Millisecond: 98, 1750 * time.Millisecond: 2}, q: 0.99, wantLo: 1700, wantHi: 1800},
		{name: "p50 ignores the slow tail", latencies: map[time.Duration]int{4 * time.Millisecond: 98, 1750 * time.Millisecond: 2}, q: 0.5, wantLo: 3, wantHi: 5},
		{name: "deadline 1.5s tells from 1.8s", latencies: map[time.Duration]int{1450 * time.Millisecond: 100}, q: 0.99, wantLo: 1400, wantHi: 1500},
		{name: "beyond the last bound", latencies: map[time.Duration]int{9 * time.Second: 10}, q: 0.99, wantLo: 5000, wantHi: 5000},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var w window
			for d, n := range tt.latencies {
				for range n {
					w.add(1000, d, -1)
				}
			}
			s := w.snapshot(1000)
			got := s.P50Ms
			if tt.q == 0.99 {
				got = s.P99Ms
			}
			if got < tt.wantLo || got > tt.wantHi {
				t.Errorf("p%.0f = %v ms, want within [%v, %v]", tt.q*100, got, tt.wantLo, tt.wantHi)
			}
		})
	}
}

func TestWindowSlidesAndRates(t *testing.T) {
	var w window
	// 5 callbacks a second for seconds 100..169, one fallback (timeout) each second.
	for sec := int64(100); sec < 170; sec++ {
		for i := range 5 {
			reason := -1
			if i == 0 {
				reason = reasonID("timeout")
			}
			w.add(sec, time.Millisecond, reason)
		}
	}
	s := w.snapshot(169)
	if got, want := s.Callbacks, int64(windowSeconds*5); got != want {
		t.Errorf("callbacks in window: got %d, want %d (older seconds must drop out)", got, want)
	}
	if got, want := s.Rate, 5.0; got != want {
		t.Errorf("rate: got %v, want %v", got, want)
	}
	if got, want := s.FallbackRate, 1.0; got != want {
		t.Errorf("fallback rate: got %v, want %v", got, want)
	}
	if got, want := s.ByReason["timeout"], int64(windowSeconds); got != want {
		t.Errorf("timeouts: got %d, want %d", got, want)
	}
	if got, want := len(s.Series), windowSeconds; got != want {
		t.Fatalf("series length: got %d, want %d", got, want)
	}
	if got, want := s.Series[windowSeconds-1], uint32(5); got != want {
		t.Errorf("last second: got %d, want %d", got, want)
	}
	// Thirty quiet seconds later half the window is empty.
	if got, want := w.snapshot(199).Callbacks, int64(30*5); got != want {
		t.Errorf("callbacks 30 s later: got %d, want %d", got, want)
	}
	if got := w.snapshot(400); got.Callbacks != 0 || got.Rate != 0 || got.P99Ms != 0 {
		t.Errorf("long after: got %+v, want an empty window", got)
	}
}

func TestReasonIDBoundsUnknownReasons(t *testing.T) {
	if got, want := reasonNames[reasonID("something_new")], "other"; got != want {
		t.Errorf("unknown reason counted as %q, want %q", got, want)
	}
	for _, r := range reasonNames {
		if got := reasonNames[reasonID(r)]; got != r {
			t.Errorf("reason %q counted as %q", r, got)
		}
	}
}
