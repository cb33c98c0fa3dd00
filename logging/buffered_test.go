package logging

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is the destination, read while the Buffered writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

func TestBufferedKeepsLinesWholeAndFlushes(t *testing.T) {
	dst := &lockedBuffer{}
	b := NewBuffered(dst)
	const writers, lines = 8, 2000
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				fmt.Fprintf(b, "{\"writer\":%d,\"line\":%d,\"pad\":%q}\n", w, i, strings.Repeat("x", i%300))
			}
		}()
	}
	wg.Wait()
	// Without Close, the timer flushes within flushEvery.
	deadline := time.Now().Add(5 * time.Second)
	for strings.Count(dst.String(), "\n") < writers*lines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	out := dst.String()
	if got, want := strings.Count(out, "\n"), writers*lines; got != want {
		t.Fatalf("%d lines written, want %d", got, want)
	}
	for i, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, `{"writer":`) || !strings.HasSuffix(line, `"}`) {
			t.Fatalf("line %d torn: %q", i, line)
		}
	}
}

func TestBufferedCloseFlushesAndWritesThrough(t *testing.T) {
	dst := &lockedBuffer{}
	b := NewBuffered(dst)
	b.Write([]byte("first\n"))
	if got := dst.String(); got != "" {
		t.Errorf("written before a flush: %q", got)
	}
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	if got, want := dst.String(), "first\n"; got != want {
		t.Errorf("after Close: %q, want %q", got, want)
	}
	b.Write([]byte("late\n"))
	if got, want := dst.String(), "first\nlate\n"; got != want {
		t.Errorf("after a late write: %q, want %q", got, want)
	}
}

func TestBufferedLineLargerThanBuffer(t *testing.T) {
	dst := &lockedBuffer{}
	b := NewBuffered(dst)
	big := strings.Repeat("y", bufferSize*2) + "\n"
	b.Write([]byte("small\n"))
	b.Write([]byte(big))
	b.Close()
	if got, want := dst.String(), "small\n"+big; got != want {
		t.Errorf("got %d bytes, want %d in order", len(got), len(want))
	}
}
