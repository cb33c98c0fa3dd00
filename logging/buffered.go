package logging

import (
	"bufio"
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
// line per call), so lines from concurrent loggers never interleave. Close flushes what is
// left; a process killed with SIGKILL loses at most the last flushEvery of lines.
type Buffered struct {
	mu     sync.Mutex
	w      *bufio.Writer
	timer  *time.Timer
	armed  bool
	closed bool
}

// NewBuffered returns a Buffered writing to w.
func NewBuffered(w io.Writer) *Buffered {
	b := &Buffered{w: bufio.NewWriterSize(w, bufferSize)}
	b.timer = time.AfterFunc(time.Hour, b.flushTimer)
	b.timer.Stop()
	return b
}

// Write buffers p, flushing first if p would not fit.
func (b *Buffered) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed { // a line logged after Close is written through at once
		n, err := b.w.Write(p)
		if err == nil {
			err = b.w.Flush()
		}
		return n, err
	}
	if len(p) > b.w.Available() && b.w.Buffered() > 0 {
		if err := b.w.Flush(); err != nil {
			return 0, err
		}
	}
	n, err := b.w.Write(p)
	if !b.armed && b.w.Buffered() > 0 {
		b.armed = true
		b.timer.Reset(flushEvery)
	}
	return n, err
}

func (b *Buffered) flushTimer() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.armed = false
	_ = b.w.Flush() // nowhere to report a failed log write
}

// Close flushes what is buffered; later writes are written through at once.
func (b *Buffered) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	b.timer.Stop()
	return b.w.Flush()
}
