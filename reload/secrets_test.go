package reload_test

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
)

// appsConfig is a config whose app reads its tokens from tokensFile.
func appsConfig(tokensFile string) string {
	return testutil.NewConfig("127.0.0.1:0", "").
		SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens_file: `+strconv.Quote(tokensFile)+`}]}`).
		Upstream("gifts", "http://127.0.0.1:9001/gifts").Route(`{commands: ["*"], upstream: gifts}`).String()
}

func prodTokens(tg *target) string { return strings.Join(tg.Table().Apps[0].Tokens, ",") }

// TestSecretFileChangesReload changes a tokens_file under an unchanged config, in the ways a
// file is replaced and as the kubelet updates a mounted Secret, and checks that the new
// tokens are installed without a SIGHUP.
func TestSecretFileChangesReload(t *testing.T) {
	for _, tt := range fileChanges {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			tokens := filepath.Join(dir, "secrets", "prod-tokens")
			if err := os.Mkdir(filepath.Dir(tokens), 0o755); err != nil {
				t.Fatal(err)
			}
			testutil.Rewrite(t, tokens, "old-token\n")
			file := filepath.Join(dir, "config.yaml")
			testutil.Rewrite(t, file, appsConfig(tokens))
			tg, r, logs := startReloader(t, file, reload.Options{})
			tt.change(t, tokens, "old-token\nnew-token\n")
			testutil.Eventually(t, "the new tokens", func() bool { return prodTokens(tg) == "old-token,new-token" })
			tt.change(t, tokens, "new-token\n")
			testutil.Eventually(t, "the old token rotated out", func() bool { return prodTokens(tg) == "new-token" })
			time.Sleep(300 * time.Millisecond) // let any stray event play out
			if got, want := r.Status().Failures, 0; got != want {
				t.Errorf("refused reloads: got %d, want %d; log:\n%s", got, want, logs)
			}
			if strings.Contains(logs.String(), "-token") {
				t.Errorf("the log reveals a token:\n%s", logs)
			}
		})
	}
}

func TestSecretSymlinkSwapReloads(t *testing.T) {
	secret, _ := newConfigMap(t, "first-token\n") // a Secret volume is laid out as a ConfigMap's
	tokens := filepath.Join(secret.dir, "tokens")
	if err := os.Symlink(filepath.Join("..data", "config.yaml"), tokens); err != nil {
		t.Fatal(err)
	}
	file := testutil.WriteFile(t, "config.yaml", appsConfig(tokens))
	tg, r, logs := startReloader(t, file, reload.Options{})
	for i, tok := range []string{"second-token", "third-token"} {
		secret.swap(t, tok+"\n")
		testutil.Eventually(t, tok, func() bool { return prodTokens(tg) == tok })
		if got, want := r.Status().Reloads, i+1; got != want {
			t.Errorf("reloads after swap %d: got %d, want %d; log:\n%s", i+1, got, want, logs)
		}
	}
}

// TestSecretFileProblemIsRefused empties the tokens file: the reload is refused (the app
// would be served unsigned), the running tokens stay, and the fixed file is installed.
func TestSecretFileProblemIsRefused(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	testutil.Rewrite(t, tokens, "kept-token\n")
	file := filepath.Join(dir, "config.yaml")
	testutil.Rewrite(t, file, appsConfig(tokens))
	tg, r, logs := startReloader(t, file, reload.Options{})
	writeRename(t, tokens, "# emptied by mistake\n")
	testutil.Eventually(t, "the refusal", func() bool { return r.Status().Failures == 1 })
	if got, want := prodTokens(tg), "kept-token"; got != want {
		t.Errorf("tokens after a refused reload: got %q, want %q", got, want)
	}
	if st := r.Status(); !strings.Contains(st.LastError, "tencent.apps[0].tokens_file") {
		t.Errorf("last error %q does not name tencent.apps[0].tokens_file", st.LastError)
	}
	if strings.Contains(logs.String(), "kept-token") {
		t.Errorf("the log reveals a token:\n%s", logs)
	}

	writeInPlace(t, tokens, "fixed-token\n")
	testutil.Eventually(t, "the fixed token", func() bool { return prodTokens(tg) == "fixed-token" })
}

// TestUnchangedSecretIsNotReloaded touches a secret file's directory without changing it.
func TestUnchangedSecretIsNotReloaded(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	testutil.Rewrite(t, tokens, "same-token\n")
	file := testutil.WriteFile(t, "config.yaml", appsConfig(tokens))
	_, r, logs := startReloader(t, file, reload.Options{})
	writeRename(t, tokens, "same-token\n")
	testutil.Rewrite(t, filepath.Join(dir, "unrelated"), "x")
	time.Sleep(600 * time.Millisecond) // several debounce periods
	if got, want := r.Status().Reloads, 0; got != want {
		t.Errorf("reloads: got %d, want %d; log:\n%s", got, want, logs)
	}
}

// TestSecretFileReplacedByFIFOIsRefused replaces a running config's tokens_file with a named
// pipe. Opening one for reading waits for a writer: the reload must refuse it, by key, rather
// than hang (holding every later reload back) while it hashes the secret files.
func TestSecretFileReplacedByFIFOIsRefused(t *testing.T) {
	dir := t.TempDir()
	tokens := filepath.Join(dir, "tokens")
	testutil.Rewrite(t, tokens, "kept-token\n")
	file := filepath.Join(dir, "config.yaml")
	testutil.Rewrite(t, file, appsConfig(tokens))
	tg, r, logs := startReloader(t, file, reload.Options{})
	fifo := testutil.NamedPipe(t, "fifo")
	if err := os.Rename(fifo, tokens); err != nil {
		t.Fatal(err)
	}
	// The reloader's stop waits for a reload the rename may have started, should it wait on
	// the pipe.
	t.Cleanup(func() { testutil.ReleaseReaders(tokens, nil) })
	var err error
	testutil.ReturnsWithoutWaitingOnPipe(t, tokens, nil, 5*time.Second, func() { err = r.Reload(reload.TriggerSignal, true) })
	if err == nil || !strings.Contains(err.Error(), "tencent.apps[0].tokens_file") {
		t.Errorf("Reload() = %v, want an error naming tencent.apps[0].tokens_file", err)
	}
	if got, want := prodTokens(tg), "kept-token"; got != want {
		t.Errorf("tokens after a refused reload: got %q, want %q", got, want)
	}
	if strings.Contains(logs.String(), "kept-token") {
		t.Errorf("the log reveals a token:\n%s", logs)
	}
}

// TestConfigFileThatIsAFIFO: a config file handed over as a named pipe (as some secret tools
// do) is read once at start. Reading it again waits for a writer that never comes: the
// reloader must neither hang its creation (the start) nor a reload, which is refused instead.
func TestConfigFileThatIsAFIFO(t *testing.T) {
	fifo := testutil.NamedPipe(t, "config.yaml")
	content := deadlineConfig("1s")
	go os.WriteFile(fifo, []byte(content), 0o600) // the one writer, as the tool is
	cfg, err := config.LoadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	tg := &target{}
	tg.Swap(routertest.Compile(t, cfg, router.Options{}))
	var r *reload.Reloader
	testutil.ReturnsWithoutWaitingOnPipe(t, fifo, []byte(content), 5*time.Second, func() {
		r = reload.New(reload.Options{File: fifo, Target: tg, Logger: zerolog.Nop()})
	})
	testutil.ReturnsWithoutWaitingOnPipe(t, fifo, []byte(content), 5*time.Second, func() { err = r.Reload(reload.TriggerSignal, true) })
	if err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("Reload() = %v, want it refused as not a regular file", err)
	}
	// A file event cannot be compared with what was read: it is no reload, and no failure.
	if err := r.Reload(reload.TriggerFile, false); err == nil {
		t.Errorf("Reload(file) = nil, want the named pipe refused")
	}
	if got, want := r.Status().Failures, 1; got != want {
		t.Errorf("refused reloads: got %d, want %d (the SIGHUP's only)", got, want)
	}
}
