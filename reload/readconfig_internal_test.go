package reload

import (
	"errors"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestConfigFileSwappedForAFIFOIsNeverWaitedOn swaps a named pipe and a regular file under
// the config's path, as fast as renames go, while readConfigFile reads it: a pipe put there
// between the look before opening and the open must be refused too, not waited on (the
// reloader, and the shutdown waiting for it, would hang).
func TestConfigFileSwappedForAFIFOIsNeverWaitedOn(t *testing.T) {
	dir := t.TempDir()
	regular, fifo := filepath.Join(dir, "regular"), filepath.Join(dir, "fifo")
	if err := os.WriteFile(regular, []byte("log: {level: info}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Skipf("cannot make a named pipe here: %v", err)
	}
	path := filepath.Join(dir, "config.yaml")
	if err := os.Symlink(regular, path); err != nil {
		t.Fatal(err)
	}
	stop, swapped := make(chan struct{}), make(chan struct{})
	go func() { // path is always one of the two: a new link renamed over it
		defer close(swapped)
		for i := 0; ; i++ {
			select {
			case <-stop:
				return
			default:
			}
			target, tmp := regular, path+".new"
			if i%2 == 1 {
				target = fifo
			}
			_ = os.Remove(tmp)
			if os.Symlink(target, tmp) == nil {
				_ = os.Rename(tmp, path)
			}
		}
	}()
	read := make(chan struct{})
	go func() {
		defer close(read)
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			data, err := readConfigFile(path)
			switch {
			case err == nil && string(data) != "log: {level: info}\n":
				t.Errorf("read %q, want the regular file's content", data)
			case err != nil && !errors.Is(err, errNotRegularFile) && !errors.Is(err, os.ErrNotExist):
				t.Errorf("read: got %v, want the content or errNotRegularFile", err)
			}
		}
	}()
	select {
	case <-read:
	case <-time.After(10 * time.Second):
		// Unblock the reader (it waits for a writer), then fail.
		if w, err := os.OpenFile(fifo, os.O_WRONLY|syscall.O_NONBLOCK, 0); err == nil {
			w.Close()
		}
		<-read
		t.Errorf("readConfigFile still waited on a named pipe after 10s, want it refused at once")
	}
	close(stop)
	<-swapped
}
