//go:build unix

package testutil

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// NamedPipe makes a named pipe called name in a temporary directory, or skips the test where
// none can be made.
func NamedPipe(t testing.TB, name string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	t.Cleanup(func() { ReleaseReaders(path, nil) })
	return path
}

// ReleaseReaders gives whatever still waits to read the named pipe at path (a goroutine the
// code under test left behind when a test failed) writers, each writing feed and closing,
// until none has waited for 100 ms, and for 5 s at most: the test's other cleanups can then
// stop what they started instead of hanging.
func ReleaseReaders(path string, feed []byte) {
	idle := 0
	for deadline := time.Now().Add(5 * time.Second); idle < 10 && time.Now().Before(deadline); time.Sleep(pollEvery) {
		w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
		if err != nil { // no reader waits (ENXIO), or the path is gone
			idle++
			continue
		}
		idle = 0
		w.Write(feed)
		w.Close()
	}
}

// ReturnsWithoutWaitingOnPipe runs fn, which must not open the named pipe at path, and fails
// the test if fn has not returned within limit — as a call blocked opening the pipe, waiting
// for a writer, would not. It then gives the pipe writers, each writing feed and closing,
// until fn returns, so that a failing test ends instead of hanging.
func ReturnsWithoutWaitingOnPipe(t testing.TB, path string, feed []byte, limit time.Duration, fn func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		fn()
	}()
	select {
	case <-done:
		return
	case <-time.After(limit):
	}
	for {
		select {
		case <-done:
			t.Fatalf("still waiting on the named pipe %s after %s, want it refused at once", filepath.Base(path), limit)
		case <-time.After(pollEvery):
			if w, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
				w.Write(feed)
				w.Close()
			}
		}
	}
}

// SwapWithPipe makes path a symbolic link that a goroutine swaps, as fast as renames go,
// between a regular file holding content and a named pipe, until the test ends; it returns
// the pipe's path. A reader that looks at path before opening it sees the pipe appear
// between the two now and then: the race a check-then-open must survive.
func SwapWithPipe(t testing.TB, path, content string) (pipe string) {
	t.Helper()
	pipe = NamedPipe(t, "pipe")
	regular := filepath.Join(filepath.Dir(pipe), "regular")
	Rewrite(t, regular, content)
	if err := os.Symlink(regular, path); err != nil {
		t.Fatal(err)
	}
	stop, stopped := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(stopped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			target, tmp := regular, path+".new"
			if i%2 == 1 {
				target = pipe
			}
			_ = os.Remove(tmp)
			if os.Symlink(target, tmp) == nil {
				_ = os.Rename(tmp, path)
			}
		}
	}()
	t.Cleanup(func() {
		close(stop)
		<-stopped
	})
	return pipe
}
