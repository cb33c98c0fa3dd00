package logging

import (
	"io"
	"sync"
	"time"
)

// Buffering of the log: one JSON line per callback is one write(2) per callback unbuffered,
// which at tens of thousands of callbacks a second costs more CPU than routing them. Lines
// are gathered and written together, at most flushEvery after they were logged.
const (
	bufferSize = 64 << 10
	flushEvery = 100 * time.Millisecond
)

// Buffered is an io.Writer that gathers writes and passes them on in large blocks, at the
// latest flushEvery after the first one waiting. Each Write is kept whole (zerolog writes one
// line per call), so lines from concurrent loggers never interleave, and blocks go out in the
// order their lines came. A full block is written out after the lock every logging callback
// takes is released: the callbacks logging meanwhile fill the next block rather than wait for
// the file (go tool trace under load showed them queueing on that lock while a block was
// written). Close flushes what is left; a process killed with SIGKILL loses at most the last
// flushEvery of lines.
type Buffered struct {
	mu     sync.Mutex // guards buf, armed and closed
	buf    []byte     // the lines waiting
	armed  bool
	closed bool
	timer  *time.Timer

	// out is held while a block is written to w. It is taken while mu is still held, so
	// that blocks reach w in the order they were taken.
	out    sync.Mutex
	w      io.Writer
	spares chan []byte // an emptied block, for the next one
}

// NewBuffered returns a Buffered writing to w.
func NewBuffered(w io.Writer) *Buffered {
	b := &Buffered{w: w, buf: make([]byte, 0, bufferSize), spares: make(chan []byte, 1)}
	b.timer = time.AfterFunc(time.Hour, b.flushTimer)
	b.timer.Stop()
	return b
}

// Write buffers p. When p does not fit, the block waiting is written out first; p larger
// than a block, or logged after Close, is written through after it.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	if !b.closed && len(b.buf)+len(p) <= bufferSize {
		b.buf = append(b.buf, p...)
		b.armLocked()
		b.mu.Unlock()
		return len(p), nil
	}
	block := b.takeLocked()
	b.out.Lock()
	through := b.closed || len(p) > bufferSize
	if !through {
		b.buf = append(b.buf, p...)
		b.armLocked()
	}
	b.mu.Unlock()
	defer b.out.Unlock()
	err := b.writeOut(block)
	if through && err == nil {
		_, err = b.w.Write(p)
	}
	if err != nil {
		return 0, err
	}
	return len(p), nil
}

func (b *Buffered) armLocked() {
	if !b.armed && len(b.buf) > 0 {
		b.armed = true
		b.timer.Reset(flushEvery)
	}
}

// takeLocked hands over the block waiting and starts an empty one.
func (b *Buffered) takeLocked() []byte {
	block := b.buf
	select {
	case b.buf = <-b.spares:
	default:
		b.buf = make([]byte, 0, bufferSize)
	}
	return block
}

// writeOut writes a block taken with takeLocked to w; out is held. The emptied block is
// kept for a later one.
func (b *Buffered) writeOut(block []byte) error {
	if len(block) == 0 {
		return nil
	}
	_, err := b.w.Write(block)
	select {
	case b.spares <- block[:0]:
	default:
	}
	return err
}

func (b *Buffered) flushTimer() {
	b.mu.Lock()
	b.armed = false
	block := b.takeLocked()
	b.out.Lock()
	b.mu.Unlock()
	_ = b.writeOut(block) // nowhere to report a failed log write
	b.out.Unlock()
}

// Close flushes what is buffered; later writes are written through at once.
func (b *Buffered) Close() error {
	b.mu.Lock()
	b.closed = true
	b.timer.Stop()
	block := b.takeLocked()
	b.out.Lock()
	b.mu.Unlock()
	defer b.out.Unlock()
	return b.writeOut(block)
}
