package proxy

import (
	"context"
	"sync"
	"time"
)

// callContext is the context of one call: its caller's, with the call's deadline. It is
// context.WithDeadline's semantics without its timer until something waits on Done. On a
// call's usual path nothing does: each attempt's connection carries the deadline, and
// CheckRetry and the transport read Deadline and Err. So a call arms no timer and allocates
// none — and 2,000 callbacks reaching their deadline together do not start 2,000 goroutines
// to cancel contexts that nobody watches, at the very moment their fallbacks are written.
// Whoever does call Done (go-retryablehttp waiting out a backoff, anything that derives a
// context) gets a channel closed at the deadline or when the caller's context ends.
//
// A callContext is part of a call's pooled block (outgoing), so that the call's request is
// bound to it once: start makes it a new call's, release ends it.
type callContext struct {
	parent   context.Context
	deadline time.Time

	mu     sync.Mutex
	err    error         // set once, when the context is found done
	done   chan struct{} // made by the first Done
	closed bool          // done is closed
	stop   func()        // stops what closes done: the timer and the parent's watch
}

var _ context.Context = (*callContext)(nil)

// start makes c the context of a new call: parent's, with deadline (or parent's own, when
// earlier). The call must release it when it ends.
func (c *callContext) start(parent context.Context, deadline time.Time) {
	if d, ok := parent.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	c.parent, c.deadline = parent, deadline
	c.err, c.done, c.closed, c.stop = nil, nil, false, nil
}

func (c *callContext) Deadline() (time.Time, bool) { return c.deadline, true }
func (c *callContext) Value(key any) any           { return c.parent.Value(key) }

// Err reports why the context is done, nil while it is not. Until Done has been asked for,
// it looks at the caller's context and the clock; after, it agrees with the channel.
func (c *callContext) Err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil && c.done == nil {
		c.err = c.endedLocked()
	}
	return c.err
}

// Done returns a channel closed when the deadline passes or the caller's context ends.
func (c *callContext) Done() <-chan struct{} {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.done != nil {
		return c.done
	}
	c.done = make(chan struct{})
	if c.err == nil {
		c.err = c.endedLocked()
	}
	if c.err != nil {
		c.closeLocked()
		return c.done
	}
	timer := time.AfterFunc(time.Until(c.deadline), func() { c.end(context.DeadlineExceeded) })
	unwatch := context.AfterFunc(c.parent, func() { c.end(c.parent.Err()) })
	c.stop = func() { timer.Stop(); unwatch() }
	return c.done
}

// endedLocked says whether the context is done now, and why.
func (c *callContext) endedLocked() error {
	if err := c.parent.Err(); err != nil {
		return err
	}
	if !time.Now().Before(c.deadline) {
		return context.DeadlineExceeded
	}
	return nil
}

func (c *callContext) end(err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err == nil {
		c.err = err
	}
	c.closeLocked()
}

func (c *callContext) closeLocked() {
	if !c.closed {
		c.closed = true
		close(c.done)
	}
}

// release stops the timer and the watch Done armed, if it did. Like a CancelFunc it ends
// the context: Err is then Canceled (unless it was done already), and Done closed. It
// reports whether Done had been asked for: the context must then not be started again,
// since the timer's function may still be running.
func (c *callContext) release() (armed bool) {
	c.mu.Lock()
	stop := c.stop
	c.stop = nil
	if c.err == nil {
		c.err = context.Canceled
	}
	armed = c.done != nil
	if armed {
		c.closeLocked()
	}
	c.mu.Unlock()
	if stop != nil {
		stop()
	}
	return armed
}
