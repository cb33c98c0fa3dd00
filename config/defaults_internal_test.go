package config

import (
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestDefaultFeedsViper checks that Default is what a file leaving every key out decodes
// to, through viper, and that viper knows each key an environment variable may set,
// nested and pointer ones included, and none of those that have no default.
func TestDefaultFeedsViper(t *testing.T) {
	const minimal = "upstreams: {gifts: {url: 'http://127.0.0.1:9001/'}}\nroutes: [{commands: ['*'], upstream: gifts}]\n"
	cfg, err := Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	got, want := settingsMap(cfg), defaultSettings()
	for key, w := range want {
		if g := got[key]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s decoded to %#v, want Default's %#v", key, g, w)
		}
	}
	if g, w := cfg.Upstreams["gifts"].MaxConns, DefaultUpstream().MaxConns; g != w {
		t.Errorf("upstreams.gifts.max_conns = %d, want DefaultUpstream's %d", g, w)
	}

	known := newViper(false).AllKeys()
	for _, key := range []string{"server.listen", "server.tls.acme.renew_interval", "server.trusted_proxies",
		"defaults.deadline", "defaults.retry_on", "defaults.breaker.open_for", "delivery.jetstream.timeout", "log.format"} {
		if _, ok := want[key]; !ok {
			t.Errorf("defaultSettings lacks %s", key)
		}
		if !slices.Contains(known, key) {
			t.Errorf("viper does not know %s", key)
		}
	}
	for _, key := range []string{"upstreams", "routes", "tencent.apps", "defaults.fallback.error_code", "defaults.name"} {
		if _, ok := want[key]; ok {
			t.Errorf("defaultSettings has %s, which has no default", key)
		}
	}

	t.Setenv("CALLBACK_ROUTER_DEFAULTS_BREAKER_OPEN_FOR", "3s") // a key under a pointer, absent from the file
	cfg, err = parse(strings.NewReader(minimal), true)
	if err != nil {
		t.Fatal(err)
	}
	if g, w := cfg.Defaults.Breaker.OpenFor, 3*time.Second; g != w {
		t.Errorf("defaults.breaker.open_for from the environment = %s, want %s", g, w)
	}
}

func settingsMap(c *Config) map[string]any {
	out := map[string]any{}
	for _, s := range Settings(c) {
		out[s.Key] = s.Value
	}
	return out
}
