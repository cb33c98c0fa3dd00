package logging

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// writeConcurrently has writers goroutines write lines lines each to w, line(w, i) the
// i-th of writer w, and returns once all are written.
func writeConcurrently(dst io.Writer, writers, lines int, line func(w, i int) string) {
	var wg sync.WaitGroup
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range lines {
				io.WriteString(dst, line(w, i))
			}
		}()
	}
	wg.Wait()
}

func TestBufferedKeepsLinesWholeAndFlushes(t *testing.T) {
	dst := &testutil.Buffer{}
	b := NewBuffered(dst)
	const writers, lines = 8, 2000
	writeConcurrently(b, writers, lines, func(w, i int) string {
		return fmt.Sprintf("{\"writer\":%d,\"line\":%d,\"pad\":%q}\n", w, i, strings.Repeat("x", i%300))
	})
	// Without Close, the timer flushes within flushEvery.
	testutil.Poll(5*time.Second, func() bool { return strings.Count(dst.String(), "\n") >= writers*lines })
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
	dst := &testutil.Buffer{}
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
	dst := &testutil.Buffer{}
	b := NewBuffered(dst)
	big := strings.Repeat("y", bufferSize*2) + "\n"
	b.Write([]byte("small\n"))
	b.Write([]byte(big))
	b.Close()
	if got, want := dst.String(), "small\n"+big; got != want {
		t.Errorf("got %d bytes, want %d in order", len(got), len(want))
	}
}

// stallingWriter blocks every Write until released.
type stallingWriter struct {
	testutil.Buffer
	entered chan struct{}
	release chan struct{}
}

func (s *stallingWriter) Write(p []byte) (int, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	<-s.release
	return s.Buffer.Write(p)
}

// TestBufferedLoggersDoNotWaitForTheFile: while a full block is being written out (here to a
// destination that stalls), lines logged meanwhile go into the next block and their Write
// returns at once: no callback waits for the log file.
func TestBufferedLoggersDoNotWaitForTheFile(t *testing.T) {
	dst := &stallingWriter{entered: make(chan struct{}, 1), release: make(chan struct{})}
	b := NewBuffered(dst)
	line := []byte(strings.Repeat("z", 1000) + "\n")
	go func() { // fills a block and one more line: that Write writes the block out, and stalls
		for range bufferSize/len(line) + 1 {
			b.Write(line)
		}
	}()
	select {
	case <-dst.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("no block was written out")
	}
	wrote := make(chan struct{})
	go func() {
		b.Write([]byte("meanwhile\n"))
		close(wrote)
	}()
	select {
	case <-wrote:
	case <-time.After(5 * time.Second):
		t.Error("a Write waited for the block being written out")
	}
	close(dst.release)
	b.Close()
	if out := dst.String(); !strings.HasSuffix(out, "meanwhile\n") || strings.Count(out, "\n") != bufferSize/len(line)+2 {
		t.Errorf("got %d lines (last %q), want every line, in order", strings.Count(out, "\n"), out[max(0, len(out)-12):])
	}
}

// TestBufferedKeepsEachWritersOrder: blocks go out in the order their lines came, whatever
// the timer and the writers race.
func TestBufferedKeepsEachWritersOrder(t *testing.T) {
	dst := &testutil.Buffer{}
	b := NewBuffered(dst)
	const writers, lines = 4, 5000
	writeConcurrently(b, writers, lines, func(w, i int) string { return fmt.Sprintf("%d %d %s\n", w, i, strings.Repeat("p", i%200)) })
	b.Close()
	next := make([]int, writers)
	for _, l := range strings.Split(strings.TrimSuffix(dst.String(), "\n"), "\n") {
		var w, i int
		if _, err := fmt.Sscanf(l, "%d %d", &w, &i); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if i != next[w] {
			t.Fatalf("writer %d: line %d after line %d", w, i, next[w]-1)
		}
		next[w]++
	}
	for w, n := range next {
		if n != lines {
			t.Errorf("writer %d: %d lines, want %d", w, n, lines)
		}
	}
}
