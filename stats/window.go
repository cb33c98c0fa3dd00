package stats

import (
	"math"
	"sync"
	"time"
)

// Window sizes. The page shows rates over the last rateSeconds complete seconds (live), and
// quantiles and totals over the whole window.
const (
	windowSeconds = 60
	rateSeconds   = 10
)

// latencyBoundsMs are the upper bounds of the latency buckets in milliseconds, fine enough
// to tell a p99 at a 1.5 s deadline from one at 1.8 s. A last, unbounded bucket follows.
var latencyBoundsMs = [...]float64{1, 2, 3, 5, 7.5, 10, 15, 20, 30, 50, 75, 100, 150, 200, 300, 400, 500,
	600, 750, 900, 1000, 1100, 1200, 1300, 1400, 1500, 1600, 1700, 1800, 1900, 2000, 2500, 5000}

const latencyBuckets = len(latencyBoundsMs) + 1

// reasonNames are the fallback reasons counted, in the order reasonID returns; "other" last.
var reasonNames = [...]string{"timeout", "breaker_open", "upstream_error", "overloaded", "no_route", "client_gone", "other"}

func reasonID(r string) int {
	for i, name := range reasonNames[:len(reasonNames)-1] {
		if name == r {
			return i
		}
	}
	return len(reasonNames) - 1
}

// second is one bucket of the window.
type second struct {
	unix      int64 // the second this bucket counts; older contents are stale
	callbacks uint32
	fallbacks uint32
	byReason  [len(reasonNames)]uint32
	latency   [latencyBuckets]uint32
}

// window counts a route's callbacks over the last windowSeconds seconds.
type window struct {
	mu    sync.Mutex
	slots [windowSeconds]second
}

// noRoute is the reason of a callback a route without upstream answered from config: its
// configured answer by design, not a failure, so it is counted by reason but not as a
// fallback in rates and series.
var noRoute = reasonID("no_route")

// add records one callback answered at unix second now; reason is -1 when no fallback.
func (w *window) add(now int64, latency time.Duration, reason int) {
	b := latencyBucket(latency)
	w.mu.Lock()
	s := &w.slots[now%windowSeconds]
	if s.unix != now {
		*s = second{unix: now}
	}
	s.callbacks++
	s.latency[b]++
	if reason >= 0 {
		s.byReason[reason]++
		if reason != noRoute {
			s.fallbacks++
		}
	}
	w.mu.Unlock()
}

func latencyBucket(d time.Duration) int {
	m := float64(d) / float64(time.Millisecond)
	for i, bound := range latencyBoundsMs {
		if m <= bound {
			return i
		}
	}
	return len(latencyBoundsMs)
}

// RouteStats is a route's window as the status page shows it.
type RouteStats struct {
	// Callbacks and Fallbacks count the whole window. ByReason counts every reason the route
	// answered with; Fallbacks (and the rates and series) leave no_route out: a route without
	// upstream answering from config is doing what it was configured to do.
	Callbacks int64            `json:"callbacks"`
	Fallbacks int64            `json:"fallbacks"`
	ByReason  map[string]int64 `json:"fallbacks_by_reason"`
	// Rate and FallbackRate are per second over the last rateSeconds complete seconds.
	Rate         float64 `json:"rate"`
	FallbackRate float64 `json:"fallback_rate"`
	// P50Ms and P99Ms estimate latency quantiles over the window; 0 when it is empty.
	P50Ms float64 `json:"p50_ms"`
	P99Ms float64 `json:"p99_ms"`
	// Series and FallbackSeries are callbacks per second, oldest first, ending at now.
	Series         []uint32 `json:"series"`
	FallbackSeries []uint32 `json:"fallback_series"`
}

// snapshot sums the window as of unix second now.
func (w *window) snapshot(now int64) RouteStats {
	var (
		lat      [latencyBuckets]uint64
		byReason [len(reasonNames)]int64
		rs       = RouteStats{Series: make([]uint32, windowSeconds), FallbackSeries: make([]uint32, windowSeconds)}
		recent   [2]int64 // callbacks, fallbacks in the rate window
	)
	w.mu.Lock()
	for i := range int64(windowSeconds) {
		sec := now - windowSeconds + 1 + i
		s := &w.slots[sec%windowSeconds]
		if s.unix != sec {
			continue
		}
		rs.Series[i], rs.FallbackSeries[i] = s.callbacks, s.fallbacks
		rs.Callbacks += int64(s.callbacks)
		rs.Fallbacks += int64(s.fallbacks)
		for j, n := range s.byReason {
			byReason[j] += int64(n)
		}
		for j, n := range s.latency {
			lat[j] += uint64(n)
		}
		if sec < now && sec >= now-rateSeconds {
			recent[0] += int64(s.callbacks)
			recent[1] += int64(s.fallbacks)
		}
	}
	w.mu.Unlock()
	rs.ByReason = map[string]int64{}
	for i, n := range byReason {
		if n > 0 {
			rs.ByReason[reasonNames[i]] = n
		}
	}
	rs.Rate = float64(recent[0]) / rateSeconds
	rs.FallbackRate = float64(recent[1]) / rateSeconds
	rs.P50Ms = quantileMs(lat[:], 0.50)
	rs.P99Ms = quantileMs(lat[:], 0.99)
	return rs
}

// quantileMs estimates the q quantile from bucket counts, interpolating linearly inside the
// bucket it falls in (as Prometheus's histogram_quantile does). The unbounded bucket reports
// its lower bound.
func quantileMs(counts []uint64, q float64) float64 {
	var total uint64
	for _, n := range counts {
		total += n
	}
	if total == 0 {
		return 0
	}
	rank := q * float64(total)
	var seen float64
	for i, n := range counts {
		if n == 0 {
			continue
		}
		if seen+float64(n) >= rank {
			if i == len(latencyBoundsMs) {
				return latencyBoundsMs[i-1]
			}
			lo := 0.0
			if i > 0 {
				lo = latencyBoundsMs[i-1]
			}
			hi := latencyBoundsMs[i]
			return math.Round((lo+(hi-lo)*(rank-seen)/float64(n))*100) / 100
		}
		seen += float64(n)
	}
	return latencyBoundsMs[len(latencyBoundsMs)-1]
}
