package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/tencent"
)

// recordingUpstream answers every callback with an allow naming itself, and keeps the
// headers of what it received.
type recordingUpstream struct {
	*httptest.Server
	mu      sync.Mutex
	headers []http.Header
	bodies  []string
}

func startRecordingUpstream(t *testing.T, name string) *recordingUpstream {
	t.Helper()
	u := &recordingUpstream{}
	u.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		u.mu.Lock()
		u.headers, u.bodies = append(u.headers, r.Header.Clone()), append(u.bodies, string(b))
		u.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":%q}`, name)
	}))
	t.Cleanup(u.Close)
	return u
}

func (u *recordingUpstream) received() []http.Header {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]http.Header(nil), u.headers...)
}

// appsBinaryConfig serves prod (tokens from a file, as a Kubernetes Secret mounts them) and
// staging (a token in the config), each with its own upstream for gifts.
func appsBinaryConfig(addr, admin, tokensFile, prodURL, stagingURL string) string {
	return fmt.Sprintf(`
server: {listen: %q, admin_listen: %q, shutdown_timeout: 5s}
tencent:
  apps:
    - sdk_app_id: 1400000001
      name: prod
      tokens_file: %q
    - sdk_app_id: 1400000002
      name: staging
      tokens: ["staging-token"]
upstreams:
  prod-gifts: {url: %q}
  staging-gifts: {url: %q}
routes:
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: prod-gifts
  - name: staging-gifts
    commands: ["Live.CallbackBeforeSendGift"]
    apps: [staging]
    upstream: staging-gifts
`, addr, admin, tokensFile, prodURL, stagingURL)
}

// signedGift posts the gift sample as app, signed with token, and returns the status and
// the ErrorInfo of the answer (the upstream's name).
func signedGift(t *testing.T, addr, app, token string) (int, string) {
	t.Helper()
	now := strconv.FormatInt(time.Now().Unix(), 10)
	url := fmt.Sprintf("http://%s/?SdkAppid=%s&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&RequestTime=%s&Sign=%s",
		addr, app, now, tencent.Sign(token, now))
	resp, err := http.Post(url, "application/json", strings.NewReader(giftBody))
	if err != nil {
		t.Fatalf("POST as %s: %v", app, err)
	}
	defer resp.Body.Close()
	var env struct{ ErrorInfo string }
	b, _ := io.ReadAll(resp.Body)
	_ = json.Unmarshal(b, &env)
	return resp.StatusCode, env.ErrorInfo
}

// metricValue returns the value of one exposition line of /metrics, -1 when it is absent.
func metricValue(t *testing.T, admin, series string) float64 {
	t.Helper()
	_, body := adminGet(t, admin, "/metrics")
	for _, line := range strings.Split(body, "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				t.Fatalf("%s: %v", line, err)
			}
			return f
		}
	}
	return -1
}

// TestBinaryServesSeveralApps runs the binary with two apps whose gift callbacks go to
// their own upstreams: each app's callback reaches its own upstream, a token of the other
// app gets 401, sign_verified_total counts which token slot signed, and a rotation written
// to the tokens_file is picked up without a signal, after which the old token is refused
// and no longer counted.
func TestBinaryServesSeveralApps(t *testing.T) {
	prodUp, stagingUp := startRecordingUpstream(t, "prod-upstream"), startRecordingUpstream(t, "staging-upstream")
	addr, admin := freeAddr(t), freeAddr(t)
	dir := t.TempDir()
	tokens := filepath.Join(dir, "prod-tokens")
	if err := os.WriteFile(tokens, []byte("# prod callback tokens\nprod-old\nprod-new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(cfg, []byte(appsBinaryConfig(addr, admin, tokens, prodUp.URL, stagingUp.URL)), 0o600); err != nil {
		t.Fatal(err)
	}
	logs, _, exited, _ := startServe(t, cfg, nil, nil)
	waitAccepting(t, addr, exited, logs)
	waitFor(t, "/readyz 200", logs, func() bool { s, _ := adminGet(t, admin, "/readyz"); return s == 200 })

	tests := []struct {
		name       string
		app, token string
		wantStatus int
		wantFrom   string
	}{
		{name: "prod with its old token", app: "1400000001", token: "prod-old", wantStatus: 200, wantFrom: "prod-upstream"},
		{name: "prod with its new token", app: "1400000001", token: "prod-new", wantStatus: 200, wantFrom: "prod-upstream"},
		{name: "staging with its token", app: "1400000002", token: "staging-token", wantStatus: 200, wantFrom: "staging-upstream"},
		{name: "prod with staging's token", app: "1400000001", token: "staging-token", wantStatus: 401},
		{name: "staging with prod's token", app: "1400000002", token: "prod-new", wantStatus: 401},
	}
	for _, tt := range tests {
		status, from := signedGift(t, addr, tt.app, tt.token)
		if status != tt.wantStatus || from != tt.wantFrom {
			t.Errorf("%s: got %d from %q, want %d from %q", tt.name, status, from, tt.wantStatus, tt.wantFrom)
		}
	}
	if got, want := len(prodUp.received()), 2; got != want {
		t.Errorf("prod's upstream got %d callbacks, want %d", got, want)
	}
	if got, want := len(stagingUp.received()), 1; got != want {
		t.Errorf("staging's upstream got %d callbacks, want %d", got, want)
	}
	// Each forward names its command and app.
	for _, c := range []struct {
		up  *recordingUpstream
		app string
	}{{prodUp, "prod"}, {stagingUp, "staging"}} {
		for _, h := range c.up.received() {
			if got, want := h.Get("X-Callback-App"), c.app; got != want {
				t.Errorf("X-Callback-App: got %q, want %q", got, want)
			}
			if got, want := h.Get("X-Callback-Command"), "Live.CallbackBeforeSendGift"; got != want {
				t.Errorf("X-Callback-Command: got %q, want %q", got, want)
			}
		}
	}
	for series, want := range map[string]float64{
		`callback_router_sign_verified_total{app="prod",token="0"}`:            1,
		`callback_router_sign_verified_total{app="prod",token="1"}`:            1,
		`callback_router_sign_verified_total{app="staging",token="0"}`:         1,
		`callback_router_rejections_total{app="prod",code="bad_signature"}`:    1,
		`callback_router_rejections_total{app="staging",code="bad_signature"}`: 1,
	} {
		if got := metricValue(t, admin, series); got != want {
			t.Errorf("%s: got %v, want %v", series, got, want)
		}
	}

	// The old token is rotated out by rewriting the file, as a Secret update does.
	tmp := tokens + ".new"
	if err := os.WriteFile(tmp, []byte("prod-new\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, tokens); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the rotated tokens_file", logs, func() bool {
		return metricValue(t, admin, "callback_router_config_reloads_total") == 1
	})
	if status, _ := signedGift(t, addr, "1400000001", "prod-old"); status != 401 {
		t.Errorf("prod's rotated-out token: got %d, want 401", status)
	}
	if status, from := signedGift(t, addr, "1400000001", "prod-new"); status != 200 || from != "prod-upstream" {
		t.Errorf("prod's new token after the rotation: got %d from %q, want 200 from prod-upstream", status, from)
	}
	// The new token is slot 0 now, counted from its rotation; the old one counts nowhere.
	if got, want := metricValue(t, admin, `callback_router_sign_verified_total{app="prod",token="0"}`), 1.0; got != want {
		t.Errorf("prod's slot 0 after the rotation: got %v, want %v", got, want)
	}
	if got := metricValue(t, admin, `callback_router_sign_verified_total{app="prod",token="1"}`); got != -1 {
		t.Errorf("prod's slot 1 after the rotation: got %v, want no series", got)
	}

	// Every callback line names its app; no token reaches the log.
	waitFor(t, "the log lines", logs, func() bool { return strings.Count(logs.String(), `"message":"callback"`) >= 7 })
	for _, want := range []string{`"app":"prod"`, `"app":"staging"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("no log line with %s:\n%s", want, logs)
		}
	}
	for _, secret := range []string{"prod-old", "prod-new", "staging-token"} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log reveals the token %q", secret)
		}
	}
	if _, body := adminGet(t, admin, "/routes"); !strings.Contains(body, `"apps": [
        "staging"
      ]`) {
		t.Errorf("/routes does not show staging-gifts' apps:\n%s", body)
	}

	// routes -command -app explains the choice from the same config.
	out, err := command(t.Context(), "routes", "-config", cfg, "-command", "Live.CallbackBeforeSendGift", "-app", "staging").CombinedOutput()
	if err != nil || !strings.Contains(string(out), "route staging-gifts") || !strings.Contains(string(out), "beats route gifts") {
		t.Errorf("routes -app staging: %v\n%s", err, out)
	}
}
