//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// The router's bench config must be one the router accepts. The bench imports nothing of the
// router, so this builds the router from the parent module as the bench does (buildRouter)
// and asks the binary: `validate` must accept every config the bench generates, and `routes`
// must show the route the template meant. It fails when a key the template uses is renamed
// (adjust routerConfigTemplate in router.go).
func TestRouterAcceptsBenchConfig(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the router")
	}
	root, err := repoRoot()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	bin, err := buildRouter(t.Context(), root, dir)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		p    routerParams
		want []string // in the config text, for keys the routes table does not show
	}{
		{"healthy", routerParams{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/gifts", Deadline: 1800 * time.Millisecond, OpenFor: 10 * time.Second, MaxInFlight: 8192},
			[]string{"open_for: 10s"}},
		{"hung", routerParams{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/hang", Deadline: time.Second, OpenFor: 10 * time.Minute, MaxInFlight: 8192},
			[]string{"open_for: 10m0s"}},
		{"pipelined, net/http", routerParams{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/gifts", Deadline: time.Second, OpenFor: time.Minute, MaxInFlight: 8192, Pipeline: 2, Engine: "net/http"},
			[]string{"pipeline: 2", `engine: "net/http"`}},
		{"traced", routerParams{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/gifts", Deadline: time.Second, OpenFor: time.Minute, MaxInFlight: 8192, TraceEndpoint: "http://127.0.0.1:19001"},
			[]string{`endpoint: "http://127.0.0.1:19001"`}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			text, err := routerConfig(c.p)
			if err != nil {
				t.Fatal(err)
			}
			cfg := filepath.Join(dir, "router.yaml")
			if err := os.WriteFile(cfg, []byte(text), 0o644); err != nil {
				t.Fatal(err)
			}
			out, stderr, err := runCmd(t.Context(), time.Minute, dir, routerEnv(), bin, "validate", "-config", cfg)
			if err != nil || !strings.Contains(out, "ok (1 upstreams, 2 routes)") {
				t.Fatalf("validate: %v\n%s%s\nconfig:\n%s", err, out, stderr, text)
			}
			routes, stderr, err := runCmd(t.Context(), time.Minute, dir, routerEnv(), bin, "routes", "-config", cfg)
			if err != nil {
				t.Fatalf("routes: %v\n%s", err, stderr)
			}
			var gift []string
			for line := range strings.Lines(routes) {
				if f := strings.Fields(line); len(f) > 0 && f[0] == "Live.CallbackBeforeSendGift" {
					gift = f
				}
			}
			// ROUTE APPS COMMANDS UPSTREAM MODE DEADLINE RETRIES FALLBACK… MAX_IN_FLIGHT
			if len(gift) < 9 || gift[3] != "gifts="+c.p.UpstreamURL || gift[4] != "sync" || gift[5] != c.p.Deadline.String() ||
				gift[7] != "deny(102101" || gift[len(gift)-1] != strconv.Itoa(c.p.MaxInFlight) {
				t.Errorf("routes: the gift route reads %q, want upstream gifts=%s, sync, deadline %v, deny(102101 …), max in flight %d:\n%s",
					gift, c.p.UpstreamURL, c.p.Deadline, c.p.MaxInFlight, routes)
			}
			for _, w := range c.want {
				if !strings.Contains(text, w) {
					t.Errorf("the config lacks %q:\n%s", w, text)
				}
			}
		})
	}
	// The check can fail: a key the router does not know is refused by name.
	text, _ := routerConfig(cases[0].p)
	cfg := filepath.Join(dir, "bad.yaml")
	if err := os.WriteFile(cfg, []byte(strings.Replace(text, "shutdown_timeout:", "shutdown_timout:", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, stderr, err := runCmd(t.Context(), time.Minute, dir, routerEnv(), bin, "validate", "-config", cfg); err == nil || !strings.Contains(stderr, "shutdown_timout") {
		t.Errorf("validate of a misspelt key: err %v, stderr %q; want a failure naming server.shutdown_timout", err, stderr)
	}
}
