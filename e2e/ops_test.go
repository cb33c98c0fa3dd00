package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// opsConfig serves on addr with the admin listener on admin; deadline tells configs apart.
func opsConfig(addr, admin, deadline string) string {
	return fmt.Sprintf(`
server: {listen: %q, admin_listen: %q, shutdown_timeout: 5s}
tencent: {sdk_app_ids: [1400000001]}
upstreams:
  gifts: {url: "http://127.0.0.1:9/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: %s
  - commands: ["*"]
`, addr, admin, deadline)
}

// adminGet returns the status and body of an admin path.
func adminGet(t *testing.T, admin, path string) (int, string) {
	t.Helper()
	resp, err := http.Get("http://" + admin + path)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// waitFor polls cond every 20 ms for up to 15 s.
func waitFor(t *testing.T, what string, logs fmt.Stringer, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(15 * time.Second); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s; output:\n%s", what, logs)
		}
	}
}

// TestBinaryReloadsAndServesAdmin runs the binary: the admin listener answers, a renamed-in
// config is picked up without a signal, SIGHUP with an invalid file is refused and counted,
// and SIGTERM still exits 0.
func TestBinaryReloadsAndServesAdmin(t *testing.T) {
	addr, admin := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(opsConfig(addr, admin, "1500ms")), 0o600); err != nil {
		t.Fatal(err)
	}
	var logs syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := command(ctx, "serve", "-config", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	waitAccepting(t, addr, exited, &logs)

	waitFor(t, "/readyz 200", &logs, func() bool { s, _ := adminGet(t, admin, "/readyz"); return s == 200 })
	// The image's HEALTHCHECK: the binary asks its own admin listener, found in the config.
	if out, err := command(ctx, "healthcheck", "-config", cfg).CombinedOutput(); err != nil {
		t.Errorf("healthcheck of a ready router: %v, want exit 0; output:\n%s", err, out)
	}
	if s, body := adminGet(t, admin, "/routes"); s != 200 || !strings.Contains(body, `"deadline_ms": 1500`) {
		t.Fatalf("/routes: %d %s", s, body)
	}

	// A config renamed into place is installed without a signal.
	tmp := filepath.Join(dir, "config.yaml.new")
	if err := os.WriteFile(tmp, []byte(opsConfig(addr, admin, "1200ms")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, cfg); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the renamed config", &logs, func() bool {
		_, body := adminGet(t, admin, "/routes")
		return strings.Contains(body, `"deadline_ms": 1200`)
	})

	// An invalid file, announced by SIGHUP, is refused; the running config stays.
	if err := os.WriteFile(cfg, []byte(opsConfig(addr, admin, "5s")), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Process.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the refused reload to be counted", &logs, func() bool {
		_, body := adminGet(t, admin, "/metrics")
		return strings.Contains(body, "callback_router_config_reload_failures_total 1")
	})
	if _, body := adminGet(t, admin, "/routes"); !strings.Contains(body, `"deadline_ms": 1200`) {
		t.Errorf("the running config changed after a refused reload:\n%s", body)
	}
	// Log lines reach stdout in blocks at most 100 ms old.
	waitFor(t, "the refusal to name routes[0].deadline", &logs, func() bool {
		return strings.Contains(logs.String(), "routes[0].deadline")
	})
	if s, page := adminGet(t, admin, "/"); s != 200 || !strings.Contains(page, "<title>callback-router status</title>") {
		t.Errorf("status page: %d", s)
	}

	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
	case <-time.After(20 * time.Second):
		t.Fatalf("router did not exit after SIGTERM; output:\n%s", &logs)
	}
	if waitErr != nil {
		t.Errorf("exit: %v, want status 0; output:\n%s", waitErr, &logs)
	}
	out, err := command(ctx, "healthcheck", "-config", cfg, "-timeout", "1s").CombinedOutput()
	if exit, ok := err.(*exec.ExitError); !ok || exit.ExitCode() != 1 {
		t.Errorf("healthcheck of a stopped router: %v, want exit status 1; output:\n%s", err, out)
	}
}

// TestBinaryVersionStamped builds the binary the way the Makefile does and checks that
// `version` prints what -ldflags stamped.
func TestBinaryVersionStamped(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "callback-router")
	const pkg = "github.com/callback-router/callback-router/cli"
	ldflags := "-X " + pkg + ".Version=v9.8.7 -X " + pkg + ".Commit=feedface1234 -X " + pkg + ".Date=2026-11-29T04:33:00Z"
	if err := testutil.Build(bin, "-trimpath", "-ldflags", ldflags); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, "version").Output()
	if err != nil {
		t.Fatal(err)
	}
	if want := "callback-router v9.8.7 (commit feedface1234, built 2026-11-29T04:33:00Z) go"; !strings.HasPrefix(string(out), want) {
		t.Errorf("version: got %q, want it to start with %q", out, want)
	}
}

// TestBinaryRefusedReloadMasksCredentials: a reload refused for a URL with credentials logs
// and shows the refusal (the log line, /status.json's last_error, which the status page's
// banner displays) with the URL masked.
func TestBinaryRefusedReloadMasksCredentials(t *testing.T) {
	addr, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, "config.yaml", opsConfig(addr, admin, "1500ms"))
	logs, _, exited, proc := startServe(t, cfg, nil, nil)
	waitAccepting(t, addr, exited, logs)
	waitFor(t, "/readyz 200", logs, func() bool { s, _ := adminGet(t, admin, "/readyz"); return s == 200 })

	bad := strings.Replace(opsConfig(addr, admin, "5s"), "http://127.0.0.1:9/gifts", "http://user:PASS@127.0.0.1:9/gifts?api_key=SECRET", 1)
	if err := os.WriteFile(cfg, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := proc.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var status struct {
		Config struct {
			LastError string `json:"last_error"`
		} `json:"config"`
	}
	waitFor(t, "the refusal in /status.json", logs, func() bool {
		_, body := adminGet(t, admin, "/status.json")
		return json.Unmarshal([]byte(body), &status) == nil && status.Config.LastError != ""
	})
	for _, want := range []string{`upstreams.gifts.url: "http://…@127.0.0.1:9/gifts?api_key=…"`, "routes[0].deadline"} {
		if !strings.Contains(status.Config.LastError, want) {
			t.Errorf("last_error = %q, want it to contain %q", status.Config.LastError, want)
		}
	}
	// Log lines reach stdout in blocks at most 100 ms old.
	waitFor(t, "the refusal in the log", logs, func() bool { return strings.Contains(logs.String(), "config reload refused") })
	for _, secret := range []string{"PASS", "SECRET"} {
		if strings.Contains(status.Config.LastError, secret) {
			t.Errorf("last_error shows %q: %s", secret, status.Config.LastError)
		}
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log shows %q:\n%s", secret, logs)
		}
	}
}
