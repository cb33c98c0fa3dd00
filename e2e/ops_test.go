package e2e

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// opsConfig serves on free addresses a gift route with the given deadline, which tells
// configs apart.
func opsConfig(t *testing.T, deadline string) *testutil.Config {
	return opsConfigAt(testutil.FreeAddr(t), testutil.FreeAddr(t), deadline)
}

// opsConfigAt is opsConfig on the given addresses, for a config rewritten under a running
// router.
func opsConfigAt(listen, admin, deadline string) *testutil.Config {
	return configAt(listen, admin).Set("server.shutdown_timeout", "5s").
		Upstream("gifts", "http://127.0.0.1:9/gifts").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: ` + deadline + `}`).
		Route(catchAll)
}

// TestBinaryReloadsAndServesAdmin runs the binary: the admin listener answers, a renamed-in
// config is picked up without a signal, SIGHUP with an invalid file is refused and counted,
// and SIGTERM still exits 0.
func TestBinaryReloadsAndServesAdmin(t *testing.T) {
	r := start(t, opsConfig(t, "1500ms"))
	r.waitReady(t)
	// The image's HEALTHCHECK: the binary asks its own admin listener, found in the config.
	if out, code := run(t, "healthcheck", "-config", r.config); code != 0 {
		t.Errorf("healthcheck of a ready router: exit %d, want 0; output:\n%s", code, out)
	}
	if s, body := r.adminGet("/routes"); s != 200 || !strings.Contains(body, `"deadline_ms": 1500`) {
		t.Fatalf("/routes: %d %s", s, body)
	}

	// A config renamed into place is installed without a signal.
	tmp := filepath.Join(filepath.Dir(r.config), "config.yaml.new")
	testutil.Rewrite(t, tmp, opsConfigAt(r.addr, r.admin, "1200ms").String())
	if err := os.Rename(tmp, r.config); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the renamed config", func() bool {
		_, body := r.adminGet("/routes")
		return strings.Contains(body, `"deadline_ms": 1200`)
	})

	// An invalid file, announced by SIGHUP, is refused; the running config stays.
	testutil.Rewrite(t, r.config, opsConfigAt(r.addr, r.admin, "5s").String())
	if err := r.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the refused reload to be counted", func() bool {
		return r.metric(t, "callback_router_config_reload_failures_total") == 1
	})
	if _, body := r.adminGet("/routes"); !strings.Contains(body, `"deadline_ms": 1200`) {
		t.Errorf("the running config changed after a refused reload:\n%s", body)
	}
	r.waitLogged(t, "routes[0].deadline")
	if s, page := r.adminGet("/"); s != 200 || !strings.Contains(page, "<title>callback-router status</title>") {
		t.Errorf("status page: %d", s)
	}

	if err := r.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := r.WaitExit(t, 20*time.Second); err != nil {
		t.Errorf("exit: %v, want status 0", err)
	}
	if out, code := run(t, "healthcheck", "-config", r.config, "-timeout", "1s"); code != 1 {
		t.Errorf("healthcheck of a stopped router: exit %d, want 1; output:\n%s", code, out)
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
	out, err := testutil.Command(t.Context(), bin, "version").Output()
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
	r := start(t, opsConfig(t, "1500ms"))
	r.waitReady(t)

	bad := opsConfigAt(r.addr, r.admin, "5s").Upstream("gifts", "http://user:PASS@127.0.0.1:9/gifts?api_key=SECRET")
	testutil.Rewrite(t, r.config, bad.String())
	if err := r.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	var status struct {
		Config struct {
			LastError string `json:"last_error"`
		} `json:"config"`
	}
	testutil.Eventually(t, "the refusal in /status.json", func() bool {
		_, body := r.adminGet("/status.json")
		return json.Unmarshal([]byte(body), &status) == nil && status.Config.LastError != ""
	})
	secrets := []string{"PASS", "SECRET"}
	testutil.CheckText(t, "last_error", status.Config.LastError,
		[]string{`upstreams.gifts.url: "http://…@127.0.0.1:9/gifts?api_key=…"`, "routes[0].deadline"}, secrets)
	r.waitLogged(t, "config reload refused")
	testutil.CheckText(t, "the log", r.Output.String(), nil, secrets)
}
