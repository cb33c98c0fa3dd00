package reload_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
)

// target holds the table a Reloader swaps, as server.Server does.
type target struct{ p atomic.Pointer[router.Table] }

func (t *target) Table() *router.Table { return t.p.Load() }
func (t *target) Swap(x *router.Table) { t.p.Store(x) }

// giftConfig is a config with one route, for gifts, with the given deadline.
func giftConfig(deadline string) *testutil.Config {
	return testutil.NewConfig("127.0.0.1:0", "").Upstream("gifts", "http://127.0.0.1:9001/gifts").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: ` + deadline + `}`)
}

// deadlineConfig is giftConfig with a catch-all answered from config.
func deadlineConfig(deadline string) string {
	return giftConfig(deadline).Route(`{commands: ["*"]}`).String()
}

// startReloader compiles file into a target and starts a Reloader on it until the test ends.
// It returns the target, the reloader and its log.
func startReloader(t *testing.T, file string, opts reload.Options) (*target, *reload.Reloader, *testutil.Buffer) {
	t.Helper()
	cfg, err := config.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	table := routertest.Compile(t, cfg, opts.Compile)
	tg := &target{}
	tg.Swap(table)
	logs := &testutil.Buffer{}
	opts.File, opts.Target, opts.Logger = file, tg, zerolog.New(logs)
	if opts.Debounce == 0 {
		opts.Debounce = 100 * time.Millisecond
	}
	r := reload.New(opts)
	ctx, cancel := context.WithCancel(context.Background())
	done := r.Start(ctx)
	t.Cleanup(func() { cancel(); <-done })
	return tg, r, logs
}

// fileChanges are the ways editors, config management and the kubelet replace a file.
var fileChanges = []struct {
	name   string
	change func(t *testing.T, path, content string)
}{
	{name: "in-place write", change: writeInPlace},
	{name: "atomic rename", change: writeRename},
	{name: "delete and recreate", change: deleteRecreate},
}

// writeInPlace truncates and rewrites the file in two writes, as an editor saving in place
// does: a reader in between sees half a file.
func writeInPlace(t *testing.T, path, content string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	half := len(content) / 2
	if _, err := f.WriteString(content[:half]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	if _, err := f.WriteString(content[half:]); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// writeRename writes a temporary file beside path and renames it over path, as editors and
// config management tools save atomically.
func writeRename(t *testing.T, path, content string) {
	t.Helper()
	tmp := path + ".tmp"
	testutil.Rewrite(t, tmp, content)
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
}

// deleteRecreate removes the file and writes it anew a moment later.
func deleteRecreate(t *testing.T, path, content string) {
	t.Helper()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	time.Sleep(30 * time.Millisecond)
	testutil.Rewrite(t, path, content)
}

// configMap lays out a directory as Kubernetes mounts a ConfigMap: config.yaml links to
// ..data/config.yaml, and ..data links to a timestamped directory.
type configMap struct {
	dir string
	gen int
}

func newConfigMap(t *testing.T, content string) (*configMap, string) {
	t.Helper()
	cm := &configMap{dir: t.TempDir()}
	cm.swap(t, content)
	file := filepath.Join(cm.dir, "config.yaml")
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), file); err != nil {
		t.Fatal(err)
	}
	return cm, file
}

// swap publishes content as the kubelet does: a new timestamped directory, a ..data_tmp
// link to it renamed over ..data, and the old directory removed.
func (cm *configMap) swap(t *testing.T, content string) {
	t.Helper()
	cm.gen++
	gen := fmt.Sprintf("..2026_11_26_%02d", cm.gen)
	if err := os.Mkdir(filepath.Join(cm.dir, gen), 0o755); err != nil {
		t.Fatal(err)
	}
	testutil.Rewrite(t, filepath.Join(cm.dir, gen, "config.yaml"), content)
	tmp := filepath.Join(cm.dir, "..data_tmp")
	if err := os.Symlink(gen, tmp); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, filepath.Join(cm.dir, "..data")); err != nil {
		t.Fatal(err)
	}
	if cm.gen > 1 {
		if err := os.RemoveAll(filepath.Join(cm.dir, fmt.Sprintf("..2026_11_26_%02d", cm.gen-1))); err != nil {
			t.Fatal(err)
		}
	}
}

func giftDeadline(t *target) time.Duration { return t.Table().Routes[0].Deadline }
