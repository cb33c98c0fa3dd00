package proxy

import (
	"context"
	"errors"
	"net/http"
	"syscall"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"
)

func TestBackoffStaysWithinItsBounds(t *testing.T) {
	for retries := range 8 {
		waitMax := backoffMax(retries)
		for n := range retries {
			hi := min(backoffBase<<(n+1), waitMax)
			for range 200 {
				if got := jitteredBackoff(backoffBase, waitMax, n, nil); got < hi/2 || got > hi {
					t.Fatalf("retries %d: backoff after attempt %d = %s, want within [%s, %s]", retries, n+1, got, hi/2, hi)
				}
			}
		}
	}
	if got, want := backoffMax(30), backoffCap; got != want {
		t.Errorf("backoffMax(30) = %s, want the cap %s", got, want)
	}
	if got := jitteredBackoff(backoffBase, backoffCap, 1000, nil); got > backoffCap {
		t.Errorf("backoff after attempt 1001 = %s, over the cap %s", got, backoffCap)
	}
}

// TestCheckRetry is the retry decision: which failures are retried, and never past the room
// the deadline leaves (go-retryablehttp counts the retries themselves: RetryMax).
func TestCheckRetry(t *testing.T) {
	resp := func(status int) *http.Response { return &http.Response{StatusCode: status} }
	rules := newRetryRules(Policy{Retries: 2, RetryOn: []int{502, 503, 504}}) // waitMax 40 ms
	room := rules.waitMax + minAttemptBudget
	tests := []struct {
		name string
		left time.Duration
		resp *http.Response
		err  error
		want bool
	}{
		{"503 with room", time.Second, resp(503), nil, true},
		{"502 with room", time.Second, resp(502), nil, true},
		{"500 not listed", time.Second, resp(500), nil, false},
		{"200", time.Second, resp(200), nil, false},
		{"200 without an envelope", time.Second, nil, &attemptError{err: ErrBadEnvelope}, false},
		{"connection refused", time.Second, nil, &attemptError{err: syscall.ECONNREFUSED}, true},
		{"attempt timeout", time.Second, nil, &attemptError{err: &attemptTimeoutError{err: errors.New("timeout")}}, true},
		{"deadline passed", time.Second, nil, &attemptError{err: context.DeadlineExceeded}, false},
		{"breaker open", time.Second, nil, &attemptError{err: gobreaker.ErrOpenState}, false},
		{"half-open, probes out", time.Second, nil, &attemptError{err: gobreaker.ErrTooManyRequests}, false},
		{"every breaker open", time.Second, nil, ErrBreakerOpen, false},
		{"client gone", time.Second, nil, &attemptError{err: context.Canceled}, false},
		{"answer over max_response_bytes", time.Second, nil, &attemptError{err: ErrTooLarge}, false},
		{"no room for the longest backoff and an attempt", room - 10*time.Millisecond, resp(503), nil, false},
		{"just enough room", room + 20*time.Millisecond, resp(503), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithDeadline(context.Background(), time.Now().Add(tt.left))
			defer cancel()
			got, err := rules.checkRetry(ctx, tt.resp, tt.err)
			if err != nil {
				t.Fatalf("checkRetry error %v", err)
			}
			if got != tt.want {
				t.Errorf("checkRetry = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCheckRetryStopsWhenContextEnds(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if got, _ := newRetryRules(Policy{Retries: 3, RetryOn: []int{503}}).checkRetry(ctx, &http.Response{StatusCode: 503}, nil); got {
		t.Error("retried after the context ended")
	}
}

func TestStatusSet(t *testing.T) {
	var s statusSet
	for _, c := range []int{502, 503, 599, 429} {
		s.add(c)
	}
	for code, want := range map[int]bool{502: true, 503: true, 599: true, 429: true, 500: false, 200: false, -1: false, 1000: false} {
		if got := s.has(code); got != want {
			t.Errorf("has(%d) = %v, want %v", code, got, want)
		}
	}
}

// TestPolicyKey: equal policies share a Caller, different ones do not.
func TestPolicyKey(t *testing.T) {
	same := [][2]Policy{
		{{Retries: 1, RetryOn: []int{503, 502}}, {Retries: 1, RetryOn: []int{502, 503, 503}}},
		{{}, {RetryOn: []int{}}},
	}
	for _, p := range same {
		if p[0].key() != p[1].key() {
			t.Errorf("%+v and %+v have keys %q and %q", p[0], p[1], p[0].key(), p[1].key())
		}
	}
	differ := []Policy{{}, {Retries: 1}, {RetryOn: []int{503}}, {AttemptTimeout: time.Second}, {Retries: 1, RetryOn: []int{503}}}
	seen := map[string]Policy{}
	for _, p := range differ {
		if q, dup := seen[p.key()]; dup {
			t.Errorf("%+v and %+v share the key %q", p, q, p.key())
		}
		seen[p.key()] = p
	}
}

func TestStateMirror(t *testing.T) {
	var m stateMirror
	if m.refusing() {
		t.Error("a new breaker refuses")
	}
	m.set(gobreaker.StateOpen, time.Hour)
	if !m.refusing() {
		t.Error("an open breaker does not refuse")
	}
	m.set(gobreaker.StateOpen, -time.Second) // open_for over: the breaker decides
	if m.refusing() {
		t.Error("an open breaker past open_for refuses without asking the breaker")
	}
	m.set(gobreaker.StateHalfOpen, time.Hour)
	if m.refusing() {
		t.Error("a half-open breaker refuses")
	}
}

func TestIsExcluded(t *testing.T) {
	if !isExcluded(context.Canceled) || !isExcluded(&attemptError{err: context.Canceled}) {
		t.Error("a cancelled call must not count against the breaker")
	}
	if isExcluded(context.DeadlineExceeded) {
		t.Error("a timeout must count against the breaker")
	}
}
