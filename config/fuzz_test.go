package config_test

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/callback-router/callback-router/config"
)

// FuzzConfigDecode feeds arbitrary YAML to Parse: it must never panic, and a config it
// accepts must hold the promises validation makes (every deadline shorter than the window,
// positive limits), so a reload can never install something Validate would refuse. The
// committed and example configs seed it; the corpus is in testdata/fuzz/FuzzConfigDecode.
func FuzzConfigDecode(f *testing.F) {
	seeds, _ := filepath.Glob("../examples/*.yaml")
	seeds = append(seeds, "../config.yaml", "testdata/design.yaml")
	for _, path := range seeds {
		if b, err := os.ReadFile(path); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("upstreams: {a: {url: \"http://127.0.0.1:1/\"}}\nroutes: [{commands: [\"*\"], upstream: a, deadline: 5}]"))
	f.Add([]byte("server: {max_conns: -1, trusted_proxies: [\"::ffff:10.0.0.0/104\"]}\ntencent: {allowed_cidrs: [\"1.2.3.4\"]}"))
	f.Add([]byte("tencent: {trtc_window: 1s}\nupstreams: {a: {url: \"http://127.0.0.1:1/\"}}\nroutes: [{commands: [\"TRTC.*\"], upstream: a}]"))
	f.Add([]byte("tencent: {trtc_window: 3s}\nupstreams: {a: {url: \"http://127.0.0.1:1/\"}}\nroutes: [{commands: [\"TRTC.*\"], upstream: a, deadline: 2500ms}, {commands: [\"*\"]}]"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse(bytes.NewReader(data))
		if err != nil {
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("Parse accepted a config Validate refuses: %v", err)
		}
		if d := *cfg.Defaults.Deadline; d >= cfg.Tencent.Window {
			t.Fatalf("accepted defaults.deadline %s not shorter than tencent.window %s", d, cfg.Tencent.Window)
		}
		for i, r := range cfg.Routes {
			window := cfg.Tencent.Window
			if r.TRTCOnly() {
				window = cfg.Tencent.TRTCWindow // TRTC waits longer for its events
			}
			deadline := r.Policy.Inherit(cfg.Defaults).Deadline // its own or the defaults'
			if *deadline >= window {
				t.Fatalf("accepted routes[%d].deadline %s (own or inherited) not shorter than its window %s", i, *deadline, window)
			}
			if r.TRTCOnly() && r.Fallback != nil && r.Fallback.Action == "deny" {
				t.Fatalf("accepted routes[%d] serving only TRTC events with a deny fallback", i)
			}
		}
		s := cfg.Server
		if s.MaxConns <= 0 || s.MaxBodyBytes <= 0 || s.MaxJSONDepth < 8 || s.WriteTimeout <= cfg.Tencent.Window {
			t.Fatalf("accepted server limits %+v", s)
		}
	})
}
