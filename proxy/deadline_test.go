package proxy

import (
	"context"
	"errors"
	"testing"
	"time"
)

// newCallContext is a callContext started on its own, and its CancelFunc.
func newCallContext(parent context.Context, deadline time.Time) (*callContext, func()) {
	c := new(callContext)
	c.start(parent, deadline)
	return c, func() { c.release() }
}

// TestCallContext holds callContext to context.WithDeadline's contract.
func TestCallContext(t *testing.T) {
	t.Run("deadline: its own or the caller's, whichever is earlier", func(t *testing.T) {
		d := time.Now().Add(time.Hour)
		c, release := newCallContext(context.Background(), d)
		defer release()
		if got, ok := c.Deadline(); !ok || !got.Equal(d) {
			t.Errorf("Deadline() = %v, %v; want %v, true", got, ok, d)
		}
		early := time.Now().Add(time.Minute)
		parent, cancel := context.WithDeadline(context.Background(), early)
		defer cancel()
		c2, release2 := newCallContext(parent, d)
		defer release2()
		if got, _ := c2.Deadline(); !got.Equal(early) {
			t.Errorf("Deadline() under an earlier parent = %v, want %v", got, early)
		}
	})
	t.Run("Err by the clock, without Done", func(t *testing.T) {
		c, release := newCallContext(context.Background(), time.Now().Add(30*time.Millisecond))
		defer release()
		if err := c.Err(); err != nil {
			t.Fatalf("Err() before the deadline = %v", err)
		}
		time.Sleep(40 * time.Millisecond)
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err() after the deadline = %v, want DeadlineExceeded", err)
		}
		select {
		case <-c.Done():
		default:
			t.Error("Done() asked after the deadline is not closed")
		}
	})
	t.Run("Done closes at the deadline", func(t *testing.T) {
		c, release := newCallContext(context.Background(), time.Now().Add(30*time.Millisecond))
		defer release()
		done := c.Done()
		if err := c.Err(); err != nil {
			t.Fatalf("Err() before the deadline = %v", err)
		}
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			t.Fatal("Done() not closed 5 s after a 30 ms deadline")
		}
		if err := c.Err(); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Err() = %v, want DeadlineExceeded", err)
		}
	})
	t.Run("the caller's context ends it", func(t *testing.T) {
		for _, asked := range []bool{false, true} {
			parent, cancel := context.WithCancel(context.Background())
			c, release := newCallContext(parent, time.Now().Add(time.Hour))
			var done <-chan struct{}
			if asked {
				done = c.Done()
			}
			cancel()
			if asked {
				select {
				case <-done:
				case <-time.After(5 * time.Second):
					t.Fatal("Done() not closed after the caller's context ended")
				}
			}
			if err := c.Err(); !errors.Is(err, context.Canceled) {
				t.Errorf("Done asked %v: Err() = %v, want Canceled", asked, err)
			}
			release()
		}
	})
	t.Run("release ends it", func(t *testing.T) {
		c, release := newCallContext(context.Background(), time.Now().Add(time.Hour))
		done := c.Done()
		release()
		select {
		case <-done:
		default:
			t.Error("Done() not closed by release")
		}
		if err := c.Err(); !errors.Is(err, context.Canceled) {
			t.Errorf("Err() after release = %v, want Canceled", err)
		}
	})
	t.Run("a derived context ends with it", func(t *testing.T) {
		c, release := newCallContext(context.Background(), time.Now().Add(30*time.Millisecond))
		defer release()
		derived, cancel := context.WithCancel(c)
		defer cancel()
		select {
		case <-derived.Done():
		case <-time.After(5 * time.Second):
			t.Fatal("a context derived from it did not end at its deadline")
		}
	})
}
