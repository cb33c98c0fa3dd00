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
	for n := range 8 {
		hi := backoffMax(n + 1)
		for range 200 {
			if got := backoff(0, 0, n, nil); got < hi/2 || got > hi {
				t.Fatalf("backoff(%d) = %s, want within [%s, %s]", n, got, hi/2, hi)
			}
		}
	}
	if got, want := backoffMax(30), backoffCap; got != want {
		t.Errorf("backoffMax(30) = %s, want the cap %s", got, want)
	}
}

// TestCheckRetry is the retry policy: which failures are retried, and never past the room
// the deadline leaves.
func TestCheckRetry(t *testing.T) {
	resp := func(status int) *http.Response { return &http.Response{StatusCode: status} }
	call := &Call{Retries: 2, RetryOn: []int{502, 503, 504}}
	tests := []struct {
		name     string
		attempts int
		left     time.Duration
		refused  bool
		resp     *http.Response
		err      error
		want     bool
	}{
		{"503 with room", 1, time.Second, false, resp(503), nil, true},
		{"502 with room", 1, time.Second, false, resp(502), nil, true},
		{"500 not listed", 1, time.Second, false, resp(500), nil, false},
		{"200 with a bad envelope", 1, time.Second, false, resp(200), nil, false},
		{"connection refused", 1, time.Second, false, nil, syscall.ECONNREFUSED, true},
		{"attempt timeout", 1, time.Second, false, nil, &attemptTimeoutError{context.DeadlineExceeded}, true},
		{"breaker open", 1, time.Second, false, nil, gobreaker.ErrOpenState, false},
		{"refused by every breaker", 1, time.Second, true, nil, ErrBreakerOpen, false},
		{"client gone", 1, time.Second, false, nil, context.Canceled, false},
		{"answer over max_response_bytes", 1, time.Second, false, nil, ErrTooLarge, false},
		{"retries spent", 3, time.Second, false, resp(503), nil, false},
		{"last retry allowed", 2, time.Second, false, resp(503), nil, true},
		{"no room for backoff and an attempt", 1, 40 * time.Millisecond, false, resp(503), nil, false},
		{"just enough room", 1, backoffMax(1) + minAttemptBudget + 20*time.Millisecond, false, resp(503), nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			st := &callState{call: call, deadline: time.Now().Add(tt.left), attempts: tt.attempts, refused: tt.refused}
			got, err := checkRetry(withCallState(ctx, st), tt.resp, tt.err)
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
	st := &callState{call: &Call{Retries: 3, RetryOn: []int{503}}, deadline: time.Now().Add(time.Second)}
	if got, _ := checkRetry(withCallState(ctx, st), &http.Response{StatusCode: 503}, nil); got {
		t.Error("retried after the context ended")
	}
}

func TestIsExcluded(t *testing.T) {
	if !isExcluded(context.Canceled) || !isExcluded(errors.Join(errors.New("x"), context.Canceled)) {
		t.Error("a cancelled call must not count against the breaker")
	}
	if isExcluded(context.DeadlineExceeded) {
		t.Error("a timeout must count against the breaker")
	}
}
