package config_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
)

func TestACMEValid(t *testing.T) {
	tests := []struct {
		name      string
		yaml      string
		wantCA    string
		wantDir   string
		wantRenew time.Duration
	}{
		{"defaults", `
server: {listen: ":443", tls: {acme: {domains: [callbacks.example.com]}}}
delivery: {dir: /var/lib/callback-router}` + minimal,
			config.LetsEncryptDirectory, "/var/lib/callback-router/acme", 10 * time.Minute},
		{"every key", `
server:
  listen: ":8443"
  tls:
    acme:
      domains: [callbacks.example.com, cb2.example.com]
      email: ops@example.com
      ca: https://acme-staging-v02.api.letsencrypt.org/directory
      dir: /srv/acme
      renew_interval: 1m` + minimal,
			"https://acme-staging-v02.api.letsencrypt.org/directory", "/srv/acme", time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(tt.yaml))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			a := cfg.Server.TLS.ACME
			if !a.Enabled() || !cfg.Server.TLS.Enabled() {
				t.Errorf("ACME enabled %v, TLS enabled %v; want both", a.Enabled(), cfg.Server.TLS.Enabled())
			}
			if a.CA != tt.wantCA {
				t.Errorf("ca: got %q, want %q", a.CA, tt.wantCA)
			}
			if got := a.CacheDir(cfg.Delivery.Dir); got != tt.wantDir {
				t.Errorf("cache dir: got %q, want %q", got, tt.wantDir)
			}
			if a.RenewInterval != tt.wantRenew {
				t.Errorf("renew_interval: got %s, want %s", a.RenewInterval, tt.wantRenew)
			}
		})
	}
}

func TestACMEOffByDefault(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Server.TLS.ACME.Enabled() || cfg.Server.TLS.Enabled() {
		t.Errorf("a config without tls serves https: %+v", cfg.Server.TLS)
	}
}

func TestACMEInvalid(t *testing.T) {
	tests := []struct{ name, key, text, yaml string }{
		{"with cert files", "server.tls.acme", "not both", `
server: {tls: {cert_file: /etc/tls.crt, key_file: /etc/tls.key, acme: {domains: [callbacks.example.com]}}}` + minimal},
		{"keys but no domain", "server.tls.acme.domains", "at least one", `
server: {tls: {acme: {email: ops@example.com}}}` + minimal},
		{"wildcard", "server.tls.acme.domains[0]", "wildcard", `
server: {tls: {acme: {domains: ["*.example.com"]}}}` + minimal},
		{"IP address", "server.tls.acme.domains[0]", "IP address", `
server: {tls: {acme: {domains: ["203.0.113.7"]}}}` + minimal},
		{"not a domain", "server.tls.acme.domains[1]", "fully qualified", `
server: {tls: {acme: {domains: [callbacks.example.com, "https://x.example.com/"]}}}` + minimal},
		{"single label", "server.tls.acme.domains[0]", "fully qualified", `
server: {tls: {acme: {domains: [localhost]}}}` + minimal},
		{"listed twice", "server.tls.acme.domains[1]", "twice", `
server: {tls: {acme: {domains: [callbacks.example.com, Callbacks.Example.com]}}}` + minimal},
		{"bad email", "server.tls.acme.email", "not an email", `
server: {tls: {acme: {domains: [callbacks.example.com], email: ops}}}` + minimal},
		{"plain http CA", "server.tls.acme.ca", "https://", `
server: {tls: {acme: {domains: [callbacks.example.com], ca: "http://ca.example.com/directory"}}}` + minimal},
		{"renew interval zero", "server.tls.acme.renew_interval", "positive", `
server: {tls: {acme: {domains: [callbacks.example.com], renew_interval: 0s}}}` + minimal},
		{"unknown key", "server.tls.acme.domain", "", `
server: {tls: {acme: {domain: callbacks.example.com}}}` + minimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.yaml, tt.key, tt.text)
		})
	}
}
