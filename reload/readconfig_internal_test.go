package reload

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

// TestConfigFileSwappedForAFIFOIsNeverWaitedOn swaps a named pipe and a regular file under
// the config's path, as fast as renames go, while readConfigFile reads it: a pipe put there
// between the look before opening and the open must be refused too, not waited on (the
// reloader, and the shutdown waiting for it, would hang).
func TestConfigFileSwappedForAFIFOIsNeverWaitedOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.yaml")
	pipe := testutil.SwapWithPipe(t, path, "log: {level: info}\n")
	testutil.ReturnsWithoutWaitingOnPipe(t, pipe, nil, 10*time.Second, func() {
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			data, err := readConfigFile(path)
			switch {
			case err == nil && string(data) != "log: {level: info}\n":
				t.Errorf("read %q, want the regular file's content", data)
			case err != nil && !errors.Is(err, config.ErrNotRegularFile) && !errors.Is(err, os.ErrNotExist):
				t.Errorf("read: got %v, want the content or config.ErrNotRegularFile", err)
			}
		}
	})
}
