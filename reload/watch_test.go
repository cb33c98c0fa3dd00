package reload_test

import (
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
)

// TestFileChangesReload changes the config file in each way editors, config management and
// Kubernetes do, and checks that the new config is installed, once, with no refused reload.
func TestFileChangesReload(t *testing.T) {
	for _, tt := range fileChanges {
		t.Run(tt.name, func(t *testing.T) {
			file := testutil.WriteFile(t, "config.yaml", deadlineConfig("1500ms"))
			tg, r, logs := startReloader(t, file, reload.Options{})
			tt.change(t, file, deadlineConfig("1200ms"))
			testutil.Eventually(t, "the new deadline", func() bool { return giftDeadline(tg) == 1200*time.Millisecond })
			time.Sleep(300 * time.Millisecond) // let any stray event play out
			st := r.Status()
			if got, want := st.Reloads, 1; got != want {
				t.Errorf("reloads: got %d, want %d; log:\n%s", got, want, logs)
			}
			if got, want := st.Failures, 0; got != want {
				t.Errorf("refused reloads: got %d, want %d; log:\n%s", got, want, logs)
			}
			// A second change of the same kind is seen too: the watch survived the first.
			tt.change(t, file, deadlineConfig("1100ms"))
			testutil.Eventually(t, "the second deadline", func() bool { return giftDeadline(tg) == 1100*time.Millisecond })
		})
	}
}

func TestConfigMapSymlinkSwapReloads(t *testing.T) {
	cm, file := newConfigMap(t, deadlineConfig("1500ms"))
	tg, r, logs := startReloader(t, file, reload.Options{})
	for i, d := range []string{"1200ms", "1300ms"} {
		cm.swap(t, deadlineConfig(d))
		want, _ := time.ParseDuration(d)
		testutil.Eventually(t, "deadline "+d, func() bool { return giftDeadline(tg) == want })
		if got, want := r.Status().Reloads, i+1; got != want {
			t.Errorf("reloads after swap %d: got %d, want %d; log:\n%s", i+1, got, want, logs)
		}
	}
}

func TestInvalidFileIsRefusedAndTheRunningConfigStays(t *testing.T) {
	file := testutil.WriteFile(t, "config.yaml", deadlineConfig("1500ms"))
	var oks, fails atomic.Int32
	tg, r, logs := startReloader(t, file, reload.Options{OnResult: func(ok bool) {
		if ok {
			oks.Add(1)
		} else {
			fails.Add(1)
		}
	}})
	before := tg.Table()
	// Three problems: a misspelt key (which must not hide the others), a deadline past the
	// 2 s window, and a route naming a missing upstream.
	bad := giftConfig("2500ms").Route(`{commands: ["*"], upstream: nope}`).SetYAML("defaults", "{dedline: 1s}").String()
	writeRename(t, file, bad)
	testutil.Eventually(t, "the refusal", func() bool { return fails.Load() == 1 })
	if tg.Table() != before {
		t.Errorf("the running table was replaced by an invalid file")
	}
	for _, key := range []string{"defaults.dedline", "routes[0].deadline", "routes[1].upstream"} {
		if !logs.Contains(key) {
			t.Errorf("the log does not name %s:\n%s", key, logs)
		}
	}
	if st := r.Status(); st.Failures != 1 || !strings.Contains(st.LastError, "routes[0].deadline") {
		t.Errorf("Status() = %+v, want 1 failure naming routes[0].deadline", st)
	}
	// The same bad content again is not retried: the log would fill with the same refusal.
	writeRename(t, file, bad)
	time.Sleep(500 * time.Millisecond)
	if got, want := fails.Load(), int32(1); got != want {
		t.Errorf("refusals after rewriting the same bad file: got %d, want %d", got, want)
	}
	writeRename(t, file, deadlineConfig("1000ms"))
	testutil.Eventually(t, "the fixed config", func() bool { return giftDeadline(tg) == time.Second })
	if got, want := oks.Load(), int32(1); got != want {
		t.Errorf("installed reloads: got %d, want %d", got, want)
	}
}

func TestUnchangedContentIsNotReloaded(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	content := deadlineConfig("1500ms")
	testutil.Rewrite(t, file, content)
	tg, r, _ := startReloader(t, file, reload.Options{})
	before := tg.Table()
	writeRename(t, file, content)
	writeInPlace(t, file, content)
	now := time.Now()
	if err := os.Chtimes(file, now, now); err != nil {
		t.Fatal(err)
	}
	time.Sleep(600 * time.Millisecond)
	if got := r.Status().Reloads; got != 0 || tg.Table() != before {
		t.Errorf("rewriting the same content reloaded %d times, want 0", got)
	}
}

func TestSIGHUPReloadsEvenUnchangedContent(t *testing.T) {
	file := testutil.WriteFile(t, "config.yaml", deadlineConfig("1500ms"))
	tg, r, _ := startReloader(t, file, reload.Options{})
	before := tg.Table()
	if err := syscall.Kill(os.Getpid(), syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the SIGHUP reload", func() bool { return r.Status().Reloads == 1 })
	if tg.Table() == before {
		t.Errorf("SIGHUP did not install a new table")
	}
	if tg.Table().Upstreams["gifts"] != before.Upstreams["gifts"] {
		t.Errorf("SIGHUP with an unchanged upstream rebuilt it (and its breakers)")
	}
}

func TestRestartOnlyChangesAreLogged(t *testing.T) {
	file := testutil.WriteFile(t, "config.yaml", deadlineConfig("1500ms"))
	tg, _, logs := startReloader(t, file, reload.Options{})
	writeRename(t, file, deadlineConfig("1200ms")+"\ndelivery: {workers: 3}\n")
	testutil.Eventually(t, "the reload", func() bool { return giftDeadline(tg) == 1200*time.Millisecond })
	testutil.Eventually(t, "the restart warning", func() bool {
		return logs.Contains("only take effect after a restart") && logs.Contains("delivery.workers")
	})
}

// TestHalfWrittenFileIsNotReportedRefused reads a file mid-write (as a slow writer outlasting
// the debounce would leave it): the reload fails, but as the file is still changing it is not
// counted as refused; the finished file then reloads.
func TestHalfWrittenFileIsNotReportedRefused(t *testing.T) {
	file := filepath.Join(t.TempDir(), "config.yaml")
	full := deadlineConfig("1500ms")
	testutil.Rewrite(t, file, full)
	cfg, err := config.LoadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	table := routertest.Compile(t, cfg, router.Options{})
	tg := &target{}
	tg.Swap(table)
	r := reload.New(reload.Options{File: file, Target: tg, Debounce: 300 * time.Millisecond, Logger: zerolog.Nop()})

	next := deadlineConfig("1200ms")
	testutil.Rewrite(t, file, next[:len(next)/2]+"\n  - {") // half a file, and not valid YAML
	go func() {
		time.Sleep(50 * time.Millisecond)
		testutil.Rewrite(t, file, next)
	}()
	if err := r.Reload(reload.TriggerFile, false); err == nil {
		t.Fatalf("Reload() of half a file = nil, want an error")
	}
	if got := r.Status().Failures; got != 0 {
		t.Errorf("refused reloads: got %d, want 0 (the file was still being written)", got)
	}
	if err := r.Reload(reload.TriggerFile, false); err != nil {
		t.Fatalf("Reload() of the finished file = %v", err)
	}
	if got, want := giftDeadline(tg), 1200*time.Millisecond; got != want {
		t.Errorf("deadline: got %v, want %v", got, want)
	}
	// A file that stays broken is refused.
	testutil.Rewrite(t, file, "routes: [")
	if err := r.Reload(reload.TriggerFile, false); err == nil || r.Status().Failures != 1 {
		t.Errorf("Reload() of a broken file = %v with %d failures, want an error and 1 failure", err, r.Status().Failures)
	}
}
