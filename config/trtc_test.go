package config_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

func TestTRTCDefaultsAndValidRoutes(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`
server: {trtc_path: /trtc}
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}}
routes:
  - commands: ["TRTC.1.*", "TRTC.2.201"]
    upstream: rooms
    deadline: 4500ms          # past tencent.window: TRTC waits 5s
  - commands: ["TRTC.3.*"]
    upstream: rooms
    async: true
  - commands: ["*"]
    fallback: {action: deny}  # a deny on a route that serves Chat too is fine
`))
	if err != nil {
		t.Fatalf("Parse() = %v, want no error", err)
	}
	if got, want := cfg.Tencent.TRTCWindow, 5*time.Second; got != want {
		t.Errorf("tencent.trtc_window = %s, want %s", got, want)
	}
	if got, want := cfg.Server.TRTCPath, "/trtc"; got != want {
		t.Errorf("server.trtc_path = %q, want %q", got, want)
	}
	for i, want := range []bool{true, true, false} {
		if got := cfg.Routes[i].TRTCOnly(); got != want {
			t.Errorf("routes[%d].TRTCOnly() = %v, want %v", i, got, want)
		}
	}
}

func TestTRTCInvalid(t *testing.T) {
	const ups = "upstreams: {rooms: {url: \"http://127.0.0.1:9001/trtc\"}}\n"
	tests := []struct {
		name string
		yaml string
		key  string // the key the error must name
		text string // and a word of its message
	}{
		{name: "deny on a TRTC-only route", key: "routes[0].fallback.action", text: "TRTC", yaml: ups + `
routes: [{commands: ["TRTC.*"], upstream: rooms, fallback: {action: deny}}]`},
		{name: "deny on an exact TRTC event", key: "routes[0].fallback.action", text: "allow", yaml: ups + `
routes: [{commands: ["TRTC.1.103", "trtc.1.104"], upstream: rooms, fallback: {action: deny, error_code: 1}}]`},
		{name: "TRTC-only deadline at trtc_window", key: "routes[0].deadline", text: "tencent.trtc_window", yaml: ups + `
routes: [{commands: ["TRTC.*"], upstream: rooms, deadline: 5s}]`},
		{name: "TRTC-only deadline past a shorter trtc_window", key: "routes[0].deadline", text: "tencent.trtc_window (3s)", yaml: ups + `
tencent: {trtc_window: 3s}
routes: [{commands: ["TRTC.*"], upstream: rooms, deadline: 3500ms}]`},
		{name: "TRTC-only route inheriting a deadline past trtc_window", key: "routes[0].deadline", text: "tencent.trtc_window (1s)", yaml: ups + `
tencent: {trtc_window: 1s}
routes: [{commands: ["TRTC.*"], upstream: rooms}]`},
		{name: "mixed route past tencent.window", key: "routes[0].deadline", text: "tencent.window (2s)", yaml: ups + `
routes: [{commands: ["TRTC.*", "Live.CallbackAfterCreateRoom"], upstream: rooms, deadline: 4s}]`},
		{name: "catch-all past tencent.window", key: "routes[0].deadline", text: "tencent.window", yaml: ups + `
routes: [{commands: ["*"], upstream: rooms, deadline: 4s}]`},
		{name: "defaults past tencent.window", key: "defaults.deadline", text: "tencent.window", yaml: ups + `
defaults: {deadline: 4s}
routes: [{commands: ["TRTC.*"], upstream: rooms}]`},
		{name: "trtc_window zero", key: "tencent.trtc_window", text: "positive", yaml: ups + `
tencent: {trtc_window: 0s}
routes: [{commands: ["*"]}]`},
		{name: "write_timeout not past trtc_window", key: "server.write_timeout", text: "tencent.trtc_window", yaml: ups + `
server: {write_timeout: 5s}
routes: [{commands: ["TRTC.*"], upstream: rooms}]`},
		{name: "trtc_path relative", key: "server.trtc_path", text: "start with /", yaml: ups + `
server: {trtc_path: trtc}
routes: [{commands: ["*"]}]`},
		{name: "trtc_path is server.path", key: "server.trtc_path", text: "server.path", yaml: ups + `
server: {path: /cb, trtc_path: /cb}
routes: [{commands: ["*"]}]`},
		{name: "trtc_key with a space", key: "tencent.apps[0].trtc_key", text: "letters and digits", yaml: ups + `
tencent: {apps: [{sdk_app_id: 1400000001, trtc_key: "abc def"}]}
routes: [{commands: ["*"]}]`},
		{name: "trtc_key too long", key: "tencent.apps[0].trtc_key", text: "32", yaml: ups + `
tencent: {apps: [{sdk_app_id: 1400000001, trtc_key: "` + strings.Repeat("k", 33) + `"}]}
routes: [{commands: ["*"]}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.yaml))
			if err == nil {
				t.Fatal("Parse() = nil, want an error")
			}
			found := false
			for _, e := range problems(err) {
				var p config.Problem
				if errors.As(e, &p) && p.Key == tt.key && strings.Contains(p.Message, tt.text) {
					found = true
				}
			}
			if !found {
				t.Errorf("Parse() error does not name %s with %q:\n%v", tt.key, tt.text, err)
			}
			if strings.Contains(err.Error(), "abc def") || strings.Contains(err.Error(), strings.Repeat("k", 33)) {
				t.Errorf("the error quotes the key:\n%v", err)
			}
		})
	}
}

// TestWriteTimeoutShorterThanTRTCWindowWithoutTRTCRoutes: a config that routes no TRTC
// event on its own keeps a write_timeout between the two windows (edge.yaml has 5s).
func TestWriteTimeoutShorterThanTRTCWindowWithoutTRTCRoutes(t *testing.T) {
	_, err := config.Parse(strings.NewReader(`
server: {write_timeout: 4s}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]
`))
	if err != nil {
		t.Errorf("Parse() = %v, want no error", err)
	}
}

// TestSingleAppTRTCKey: the single-app form takes a TRTC key too, shared by its apps, from
// the file or from CALLBACK_ROUTER_TENCENT_TRTC_KEY; it cannot be mixed with tencent.apps.
func TestSingleAppTRTCKey(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`
tencent: {sdk_app_ids: [1400000001, 1400000002], trtc_key: Key123}
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}}
routes: [{commands: ["TRTC.*"], upstream: rooms}]
`))
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range cfg.Tencent.ServedApps() {
		if got, want := a.Key(), "Key123"; got != want {
			t.Errorf("app %s key = %q, want %q", a.Name, got, want)
		}
	}

	t.Setenv("CALLBACK_ROUTER_TENCENT_TRTC_KEY", "FromEnv9")
	path := testutil.WriteFile(t, "config.yaml", "tencent: {sdk_app_ids: [1400000001]}\nupstreams: {rooms: {url: \"http://127.0.0.1:9001/trtc\"}}\nroutes: [{commands: [\"*\"]}]\n")
	cfg, err = config.LoadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := cfg.Tencent.ServedApps()[0].Key(), "FromEnv9"; got != want {
		t.Errorf("key from the environment = %q, want %q", got, want)
	}

	_, err = config.Parse(strings.NewReader(`
tencent: {trtc_key: Key123, apps: [{sdk_app_id: 1400000001}]}
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}}
routes: [{commands: ["*"]}]
`))
	if err == nil || !strings.Contains(err.Error(), "tencent.trtc_key") {
		t.Errorf("Parse(trtc_key with tencent.apps) = %v, want an error naming tencent.trtc_key", err)
	}
}
