package testutil

import (
	"bytes"
	"strings"
	"sync"
)

// Buffer collects what a logger or a child process writes from its own goroutines while the
// test reads it. The zero value is ready to use.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p; it is safe for concurrent use.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns everything written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Contains reports whether s has been written (in one piece).
func (b *Buffer) Contains(s string) bool { return strings.Contains(b.String(), s) }
