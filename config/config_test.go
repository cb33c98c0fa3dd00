package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

// minimal is the smallest complete config: one upstream and one route.
const minimal = `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
`

// parseFile parses a file from testdata.
func parseFile(t *testing.T, name string) *config.Config {
	t.Helper()
	f, err := os.Open(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := config.Parse(f)
	if err != nil {
		t.Fatalf("Parse(%s) = %v, want no error", name, err)
	}
	return cfg
}

// checkDefaults asserts the defaults DESIGN.md lists.
func checkDefaults(t *testing.T, cfg *config.Config) {
	t.Helper()
	d := cfg.Defaults
	if d.Deadline == nil || d.Retries == nil || d.AttemptTimeout == nil || d.Fallback == nil || d.Breaker == nil {
		t.Fatalf("defaults has unset keys: %+v", d)
	}
	for _, c := range []struct {
		key       string
		got, want any
	}{
		{"server.listen", cfg.Server.Listen, ":8080"},
		{"server.admin_listen", cfg.Server.AdminListen, "127.0.0.1:9090"},
		{"server.path", cfg.Server.Path, "/"},
		{"server.max_body_bytes", cfg.Server.MaxBodyBytes, int64(1048576)},
		{"server.tls.cert_file", cfg.Server.TLS.CertFile, ""},
		{"server.max_conns", cfg.Server.MaxConns, 10000},
		{"server.max_conns_per_ip", cfg.Server.MaxConnsPerIP, 0},
		{"server.max_json_depth", cfg.Server.MaxJSONDepth, 64},
		{"server.admin_token", cfg.Server.AdminToken, ""},
		{"server.trusted_proxies", len(cfg.Server.TrustedProxies), 0},
		{"tencent.allowed_cidrs", len(cfg.Tencent.AllowedCIDRs), 0},
		{"tencent.auth_token", cfg.Tencent.AuthToken, ""},
		{"tencent.max_clock_skew", cfg.Tencent.MaxClockSkew, 60 * time.Second},
		{"tencent.window", cfg.Tencent.Window, 2 * time.Second},
		{"defaults.deadline", *d.Deadline, 1800 * time.Millisecond},
		{"defaults.retries", *d.Retries, 1},
		{"defaults.attempt_timeout", *d.AttemptTimeout, time.Duration(0)},
		{"defaults.fallback.action", d.Fallback.Action, "allow"},
		{"defaults.breaker.consecutive_failures", d.Breaker.ConsecutiveFailures, uint32(5)},
		{"defaults.breaker.open_for", d.Breaker.OpenFor, 10 * time.Second},
		{"defaults.breaker.half_open_requests", d.Breaker.HalfOpenRequests, uint32(1)},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.key, c.got, c.want)
		}
	}
	if d.Fallback.ErrorCode != nil {
		t.Errorf("defaults.fallback.error_code = %d, want unset", *d.Fallback.ErrorCode)
	}
}

func TestParseDesignSample(t *testing.T) {
	cfg := parseFile(t, "design.yaml")
	checkDefaults(t, cfg)
	if got, want := len(cfg.Routes), 4; got != want {
		t.Fatalf("routes: got %d, want %d", got, want)
	}
	if got, want := len(cfg.Upstreams), 3; got != want {
		t.Errorf("upstreams: got %d, want %d", got, want)
	}
	if got, want := strings.Join(cfg.Tencent.Tokens(), ","), ""; got != want {
		t.Errorf("tokens: got %q, want %q", got, want)
	}
	if got, want := len(cfg.Tencent.SdkAppIDs), 1; got != want || cfg.Tencent.SdkAppIDs[0] != 1400000001 {
		t.Errorf("tencent.sdk_app_ids = %v, want [1400000001]", cfg.Tencent.SdkAppIDs)
	}
	gift := cfg.Routes[0]
	if gift.Deadline == nil || *gift.Deadline != 1500*time.Millisecond {
		t.Errorf("routes[0].deadline = %v, want 1500ms", gift.Deadline)
	}
	if f := gift.Fallback; f == nil || f.Action != "deny" || f.ErrorCode == nil || *f.ErrorCode != 102101 || f.ErrorInfo != "gift service unavailable" {
		t.Errorf("routes[0].fallback = %+v, want deny 102101 \"gift service unavailable\"", f)
	}
	if gift.Retries != nil {
		t.Errorf("routes[0].retries = %d, want unset (inherited)", *gift.Retries)
	}
	if got, want := cfg.Routes[2].Async, true; got != want {
		t.Errorf("routes[2].async = %v, want %v", got, want)
	}
	u, ok := cfg.Upstream("gifts")
	if !ok {
		t.Fatal(`Upstream("gifts") not found`)
	}
	if got, want := strings.Join(u.Instances(), ","), "http://127.0.0.1:9001/tencent"; got != want {
		t.Errorf("upstreams.gifts instances = %q, want %q", got, want)
	}
	if got, want := u.MaxResponseBytes, config.DefaultUpstream().MaxResponseBytes; got != want {
		t.Errorf("upstreams.gifts.max_response_bytes = %d, want %d", got, want)
	}
}

func TestParseMinimalIsComplete(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatalf("Parse(minimal) = %v, want no error", err)
	}
	checkDefaults(t, cfg)
	if got, want := len(cfg.Tencent.SdkAppIDs), 0; got != want {
		t.Errorf("tencent.sdk_app_ids: got %d ids, want %d", got, want)
	}
	if got, want := cfg.Log.Level, "info"; got != want {
		t.Errorf("log.level = %q, want %q", got, want)
	}
	if got, want := cfg.Delivery.MaxItems, 100000; got != want {
		t.Errorf("delivery.max_items = %d, want %d", got, want)
	}
	if got, want := cfg.Delivery.MaxAge, 24*time.Hour; got != want {
		t.Errorf("delivery.max_age = %s, want %s", got, want)
	}
	if got, want := cfg.Delivery.Backend, config.BackendBolt; got != want {
		t.Errorf("delivery.backend = %q, want %q", got, want)
	}
	u, _ := cfg.Upstream("gifts")
	if got, want := u.MaxConns, config.DefaultUpstream().MaxConns; got != want {
		t.Errorf("upstreams.gifts.max_conns = %d, want %d", got, want)
	}
	if got := u.Pipeline; got != 0 {
		t.Errorf("upstreams.gifts.pipeline = %d, want 0 (no pipelining unless asked)", got)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("Validate() of a parsed config = %v, want nil", err)
	}
}

func TestParsePipeline(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts", pipeline: 4}
routes:
  - commands: ["*"]
    upstream: gifts
`))
	if err != nil {
		t.Fatal(err)
	}
	if u, _ := cfg.Upstream("gifts"); u.Pipeline != 4 {
		t.Errorf("upstreams.gifts.pipeline = %d, want 4", u.Pipeline)
	}
}

// TestParseWholeNumbers checks that a whole number is taken however YAML writes it.
func TestParseWholeNumbers(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(`
server: {max_conns: 1e4, max_body_bytes: 2097152.0}
delivery: {workers: "8"}
defaults: {retries: -0.0, fallback: {action: deny, error_code: 1.0}}` + minimal))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		key       string
		got, want int64
	}{
		{"server.max_conns", int64(cfg.Server.MaxConns), 10000},
		{"server.max_body_bytes", cfg.Server.MaxBodyBytes, 2 << 20},
		{"delivery.workers", int64(cfg.Delivery.Workers), 8},
		{"defaults.retries", int64(*cfg.Defaults.Retries), 0},
		{"defaults.fallback.error_code", *cfg.Defaults.Fallback.ErrorCode, 1},
	} {
		if c.got != c.want {
			t.Errorf("%s = %d, want %d", c.key, c.got, c.want)
		}
	}
}

func TestParseValidVariants(t *testing.T) {
	tests := []struct {
		name string
		yaml string
	}{
		{name: "upstream name in mixed case", yaml: `
upstreams: {Gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: Gifts}]`},
		{name: "several instances", yaml: `
upstreams: {gifts: {url: "http://a:1/", urls: ["http://b:1/", "https://c/x?k=v"]}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "zero without a unit", yaml: `
defaults: {attempt_timeout: 0}
upstreams: {gifts: {url: "http://a:1/"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "retries 0 and deadline just under the window", yaml: `
upstreams: {gifts: {url: "http://a:1/"}}
routes: [{commands: ["*"], upstream: gifts, retries: 0, deadline: 1999ms}]`},
		{name: "route without upstream answers from config", yaml: `
upstreams: {gifts: {url: "http://a:1/"}}
routes: [{commands: ["*"], fallback: {action: deny}}]`},
		{name: "deny 2 drops a group message silently", yaml: `
upstreams: {m: {url: "http://a:1/"}}
routes: [{commands: ["Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg"], upstream: m, fallback: {action: deny, error_code: 2}}]`},
		{name: "async fan-out", yaml: `
upstreams: {audit: {url: "http://a:1/"}, analytics: {url: "http://b:1/"}}
routes: [{commands: ["Live.CallbackAfter*"], upstreams: [audit, analytics], async: true}]`},
		{name: "admin host names", yaml: `
server: {admin_hosts: ["router-admin.internal", "Admin-1.Example.COM.", "lb_admin"]}
upstreams: {gifts: {url: "http://a:1/"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "tls files are not checked for existence", yaml: `
server: {tls: {cert_file: /nonexistent/tls.crt, key_file: /nonexistent/tls.key}}
upstreams: {gifts: {url: "http://a:1/"}}
routes: [{commands: ["*"], upstream: gifts}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := config.Parse(strings.NewReader(tt.yaml)); err != nil {
				t.Errorf("Parse() = %v, want no error", err)
			}
		})
	}
}

// problems splits a joined error into its lines.
func problems(err error) []error {
	var joined interface{ Unwrap() []error }
	if errors.As(err, &joined) {
		return joined.Unwrap()
	}
	return []error{err}
}

// hasKey reports whether one of err's problems is about key: it starts with "key: ".
// checkRefused parses yaml and fails the test unless Parse refuses it naming key and, when
// text is set, mentioning text. It returns the error.
func checkRefused(t *testing.T, yaml, key, text string) error {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(yaml))
	if err == nil {
		t.Fatalf("Parse() = %+v, nil; want an error naming %s", cfg, key)
	}
	if !hasKey(err, key) {
		t.Errorf("Parse() error does not name %s:\n%v", key, err)
	}
	if !strings.Contains(err.Error(), text) {
		t.Errorf("Parse() error does not mention %q:\n%v", text, err)
	}
	return err
}

func hasKey(err error, key string) bool {
	for _, p := range problems(err) {
		if strings.HasPrefix(p.Error(), key+": ") {
			return true
		}
	}
	return false
}

func TestParseInvalid(t *testing.T) {
	const ups = `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  moderation: {url: "http://127.0.0.1:9002/moderation"}
`
	tests := []struct {
		name string
		yaml string
		key  string // the key the error must name
		text string // and, if set, a word of its message
	}{
		{name: "negative breaker count", key: "defaults.breaker.consecutive_failures", text: "whole number", yaml: `
defaults: {breaker: {consecutive_failures: -1}}` + minimal},
		{name: "breaker count beyond 32 bits", key: "defaults.breaker.half_open_requests", text: "whole number", yaml: `
defaults: {breaker: {half_open_requests: 4294967297}}` + minimal},
		{name: "fractional retries", key: "defaults.retries", text: "whole number", yaml: `
defaults: {retries: 1.5}` + minimal},
		{name: "max_conns beyond int", key: "server.max_conns", text: "whole number", yaml: `
server: {max_conns: 1e20}` + minimal},
		{name: "boolean json depth", key: "server.max_json_depth", text: "whole number", yaml: `
server: {max_json_depth: true}` + minimal},
		{name: "fractional retried status", key: "defaults.retry_on[0]", text: "whole number", yaml: `
defaults: {retry_on: [502.5]}` + minimal},
		{name: "hex workers in quotes", key: "delivery.workers", text: "whole number", yaml: `
delivery: {workers: "0x10"}` + minimal},
		{name: "queue_size of older configs", key: "delivery.queue_size", text: "max_items", yaml: `
delivery: {queue_size: 10}` + minimal},
		{name: "unknown delivery backend", key: "delivery.backend", text: "jetstream", yaml: `
delivery: {backend: redis}` + minimal},
		{name: "empty delivery dir", key: "delivery.dir", yaml: `
delivery: {dir: ""}` + minimal},
		{name: "max_bytes too small", key: "delivery.max_bytes", text: "1 MiB", yaml: `
delivery: {max_bytes: 1000}` + minimal},
		{name: "backoff max below initial", key: "delivery.backoff.max", yaml: `
delivery: {backoff: {initial: 2s, max: 1s}}` + minimal},
		{name: "jetstream url not nats", key: "delivery.jetstream.url", text: "nats://", yaml: `
delivery: {backend: jetstream, jetstream: {url: "http://x:4222"}}` + minimal},
		{name: "jetstream stream with a dot", key: "delivery.jetstream.stream", yaml: `
delivery: {backend: jetstream, jetstream: {stream: "a.b"}}` + minimal},
		{name: "ordered on a synchronous route", key: "routes[0].ordered", text: "async", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    ordered: true`},
		{name: "an upstream listed twice", key: "routes[0].upstreams[1]", text: "twice", yaml: ups + `
routes:
  - commands: ["*"]
    upstreams: [gifts, gifts]
    async: true`},
		{name: "an upstream listed twice, spelt in two cases", key: "routes[0].upstreams[1]", text: "twice", yaml: ups + `
routes:
  - commands: ["*"]
    upstreams: [gifts, Gifts]
    async: true`},
		{name: "journal on an async route", key: "routes[0].journal", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    async: true
    journal: true`},
		{name: "journal without upstream", key: "routes[0].journal", text: "upstream", yaml: ups + `
routes:
  - commands: ["*"]
    journal: true`},
		{name: "unknown key at top level", key: "sever", text: "unknown key", yaml: `
sever: {listen: ":8080"}` + minimal},
		{name: "unknown key nested", key: "server.lisen", text: "unknown key", yaml: `
server: {lisen: ":8080"}` + minimal},
		{name: "unknown key inside a route", key: "routes[1].retires", text: "unknown key", yaml: ups + `
routes:
  - commands: ["*"]
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    retires: 2`},
		{name: "unknown key inside a fallback", key: "routes[0].fallback.code", text: "unknown key", yaml: ups + `
routes:
  - commands: ["*"]
    fallback: {action: deny, code: 1}`},
		{name: "unknown key inside an upstream", key: "upstreams.gifts.uri", text: "unknown key", yaml: `
upstreams:
  gifts: {uri: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]`},
		{name: "route naming a missing upstream", key: "routes[1].upstream", text: "giftz", yaml: ups + `
routes:
  - commands: ["*"]
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: giftz`},
		{name: "fan-out naming a missing upstream", key: "routes[0].upstream", text: "analytics", yaml: ups + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstreams: [gifts, analytics]
    async: true`},
		{name: "duplicate exact command across routes", key: "routes[1].commands[0]", text: "routes[0].commands[0]", yaml: ups + `
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: moderation`},
		{name: "duplicate exact command within one route", key: "routes[0].commands[1]", yaml: ups + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg", "Group.CallbackBeforeSendMsg"]
    upstream: moderation`},
		{name: "case-insensitive duplicate", key: "routes[1].commands[0]", yaml: ups + `
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - commands: ["live.callbackbeforesendgift"]
    upstream: moderation`},
		{name: "duplicate catch-all", key: "routes[1].commands[0]", yaml: ups + `
routes:
  - commands: ["*"]
  - commands: ["*"]`},
		{name: "deadline equal to tencent.window", key: "routes[0].deadline", text: "tencent.window", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: 2s`},
		{name: "deadline longer than tencent.window", key: "routes[0].deadline", text: "tencent.window", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: 2500ms`},
		{name: "defaults deadline not shorter than tencent.window", key: "defaults.deadline", text: "tencent.window", yaml: `
defaults: {deadline: 2s}` + minimal},
		{name: "tencent.window shorter than the default deadline", key: "defaults.deadline", text: "tencent.window (1s)", yaml: `
tencent: {window: 1s}` + minimal},
		{name: "tencent.window zero", key: "tencent.window", text: "positive", yaml: `
tencent: {window: 0s}` + minimal},
		{name: "tencent.window a bare number", key: "tencent.window", text: "unit", yaml: `
tencent: {window: 2}` + minimal},
		{name: "deadline a bare number", key: "routes[0].deadline", text: "unit", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: 5`},
		{name: "deadline not a duration", key: "routes[0].deadline", text: "not a duration", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: soon`},
		{name: "deny code 5 on Group.CallbackBeforeSendMsg", key: "routes[0].fallback.error_code", text: "Group.CallbackBeforeSendMsg", yaml: ups + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    fallback: {action: deny, error_code: 5}`},
		{name: "deny code 10099 on Group.CallbackBeforeSendMsg", key: "routes[0].fallback.error_code", text: "10099", yaml: ups + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    fallback: {action: deny, error_code: 10099}`},
		{name: "deny code 3 on C2C.CallbackBeforeSendMsg", key: "routes[0].fallback.error_code", text: "C2C.CallbackBeforeSendMsg", yaml: ups + `
routes:
  - commands: ["C2C.CallbackBeforeSendMsg"]
    upstream: moderation
    fallback: {action: deny, error_code: 3}`},
		{name: "deny code past 32 bits on a command of no known range", key: "routes[0].fallback.error_code", text: "32-bit", yaml: ups + `
routes:
  - commands: ["Custom.CallbackBeforeThing"]
    upstream: moderation
    fallback: {action: deny, error_code: 4294967297}`},
		{name: "deny code a pattern reaches", key: "routes[0].fallback.error_code", text: "Group.CallbackBeforeCreateGroup", yaml: ups + `
routes:
  - commands: ["Group.*"]
    upstream: moderation
    fallback: {action: deny, error_code: 2}`},
		{name: "deny code 0", key: "routes[0].fallback.error_code", text: "allow", yaml: ups + `
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    fallback: {action: deny, error_code: 0}`},
		{name: "allow with error_code 7", key: "routes[0].fallback.error_code", text: "deny", yaml: ups + `
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    fallback: {action: allow, error_code: 7}`},
		{name: "fallback action unknown", key: "routes[0].fallback.action", yaml: ups + `
routes:
  - commands: ["*"]
    fallback: {action: block}`},
		{name: "defaults deny code no command accepts", key: "defaults.fallback.error_code", yaml: `
defaults: {fallback: {action: deny, error_code: 5}}` + minimal},
		{name: "url without scheme", key: "upstreams.gifts.url", yaml: `
upstreams: {gifts: {url: "127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "url with ftp scheme", key: "upstreams.gifts.url", text: "http", yaml: `
upstreams: {gifts: {url: "ftp://127.0.0.1/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "url without host", key: "upstreams.gifts.url", text: "host", yaml: `
upstreams: {gifts: {url: "http:///gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "url with user:pass", key: "upstreams.gifts.url", text: "credentials", yaml: `
upstreams: {gifts: {url: "http://user:pass@127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "second of several urls malformed", key: "upstreams.gifts.urls[1]", yaml: `
upstreams: {gifts: {url: "http://a:1/", urls: ["http://b:1/", "b:1"]}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "upstream without url", key: "upstreams.gifts", text: "url", yaml: `
upstreams: {gifts: {max_conns: 4}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "pipeline negative", key: "upstreams.gifts.pipeline", text: "0..64", yaml: `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts", pipeline: -1}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "pipeline over too many connections", key: "upstreams.gifts.pipeline", text: "0..64", yaml: `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts", pipeline: 65}}
routes: [{commands: ["*"], upstream: gifts}]`},
		{name: "star in the middle of a pattern", key: "routes[0].commands[0]", text: "*", yaml: ups + `
routes:
  - commands: ["Live.*Gift"]
    upstream: gifts`},
		{name: "command with a space", key: "routes[0].commands[1]", yaml: ups + `
routes:
  - commands: ["Live.CallbackBeforeSendGift", "Live.Callback BeforeSendGift"]
    upstream: gifts`},
		{name: "route without commands", key: "routes[0].commands", yaml: ups + `
routes:
  - upstream: gifts`},
		{name: "async route without upstream", key: "routes[0].async", yaml: ups + `
routes:
  - commands: ["Live.CallbackAfter*"]
    async: true`},
		{name: "fan-out on a non-async route", key: "routes[0].upstreams", text: "async", yaml: ups + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstreams: [gifts, moderation]`},
		{name: "upstream and upstreams together", key: "routes[0].upstreams", yaml: ups + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: gifts
    upstreams: [moderation]
    async: true`},
		{name: "retries on an async route", key: "routes[0].retries", yaml: ups + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: gifts
    async: true
    retries: 3`},
		{name: "retries out of range", key: "routes[0].retries", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    retries: 11`},
		{name: "breaker on a route", key: "routes[0].breaker", yaml: ups + `
routes:
  - commands: ["*"]
    upstream: gifts
    breaker: {consecutive_failures: 1}`},
		{name: "empty routes", key: "routes", yaml: ups + `
routes: []`},
		{name: "no routes key", key: "routes", yaml: ups},
		{name: "no upstreams", key: "upstreams", yaml: `
routes:
  - commands: ["*"]`},
		{name: "listen without port", key: "server.listen", yaml: `
server: {listen: "8080"}` + minimal},
		{name: "write_timeout not longer than tencent.window", key: "server.write_timeout", yaml: `
server: {write_timeout: 2s}` + minimal},
		{name: "tls cert without key", key: "server.tls", yaml: `
server: {tls: {cert_file: /etc/callback-router/tls.crt}}` + minimal},
		{name: "auth token too long", key: "tencent.auth_token", text: "128", yaml: `
tencent: {auth_token: "` + strings.Repeat("t", 129) + `"}` + minimal},
		{name: "max_conns zero", key: "server.max_conns", yaml: `
server: {max_conns: 0}` + minimal},
		{name: "max_conns_per_ip negative", key: "server.max_conns_per_ip", yaml: `
server: {max_conns_per_ip: -1}` + minimal},
		{name: "max_json_depth too small", key: "server.max_json_depth", text: "at least 8", yaml: `
server: {max_json_depth: 2}` + minimal},
		{name: "trusted proxy not an address", key: "server.trusted_proxies[1]", text: "CIDR", yaml: `
server: {trusted_proxies: ["10.0.0.0/8", "lb.internal"]}` + minimal},
		{name: "allowed cidr malformed", key: "tencent.allowed_cidrs[0]", text: "CIDR", yaml: `
tencent: {allowed_cidrs: ["203.0.113.0/33"]}` + minimal},
		{name: "read_timeout not above read_header_timeout", key: "server.read_timeout", text: "difference", yaml: `
server: {read_header_timeout: 5s, read_timeout: 5s}` + minimal},
		{name: "admin host with a port", key: "server.admin_hosts[1]", text: "host name", yaml: `
server: {admin_hosts: ["admin.internal", "admin.internal:9090"]}` + minimal},
		{name: "admin host as a URL", key: "server.admin_hosts[0]", text: "no scheme", yaml: `
server: {admin_hosts: ["http://admin.internal/"]}` + minimal},
		{name: "admin host wildcard", key: "server.admin_hosts[0]", text: "wildcard", yaml: `
server: {admin_hosts: ["*.internal"]}` + minimal},
		{name: "admin host empty", key: "server.admin_hosts[0]", yaml: `
server: {admin_hosts: [""]}` + minimal},
		{name: "log level unknown", key: "log.level", yaml: `
log: {level: verbose}` + minimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.yaml, tt.key, tt.text)
		})
	}
}

func TestParseReportsEveryProblem(t *testing.T) {
	const yaml = `
server: {path: "callbacks"}
upstreams:
  gifts: {url: "ftp://127.0.0.1/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: giftz
    deadline: 3s
  - commands: ["Group.CallbackBeforeSendMsg"]
    fallback: {action: deny, error_code: 5}
`
	_, err := config.Parse(strings.NewReader(yaml))
	if err == nil {
		t.Fatal("Parse() = nil, want errors")
	}
	want := []string{
		"server.path",
		"upstreams.gifts.url",
		"routes[0].upstream",
		"routes[0].deadline",
		"routes[1].fallback.error_code",
	}
	for _, key := range want {
		if !hasKey(err, key) {
			t.Errorf("Parse() error does not name %s", key)
		}
	}
	if got, want := len(problems(err)), len(want); got != want {
		t.Errorf("Parse() reported %d problems, want %d:\n%v", got, want, err)
	}
}

// TestProblemsMaskURLCredentials: a config refused for its URLs names the key and the URL's
// host, but never the userinfo, query values or fragment it refused — validate prints these
// messages, a reload logs them and the status page shows them.
func TestProblemsMaskURLCredentials(t *testing.T) {
	const secrets = "PASS|SECRET|FRAG"
	routes := `
routes:
  - commands: ["*"]
    upstream: gifts`
	tests := []struct {
		name string
		yaml string
		key  string
		want string // the URL as the message shows it (a decoder's message shows none)
	}{
		{"userinfo", `
upstreams:
  gifts: {url: "http://user:PASS@gifts.internal/gifts?api_key=SECRET"}` + routes,
			"upstreams.gifts.url", `"http://…@gifts.internal/gifts?api_key=…"`},
		{"fragment", `
upstreams:
  gifts: {url: "http://gifts.internal/gifts?api_key=SECRET#FRAG"}` + routes,
			"upstreams.gifts.url", `"http://gifts.internal/gifts?api_key=…#…"`},
		{"no scheme", `
upstreams:
  gifts: {urls: ["http://gifts.internal/a", "user:PASS@gifts.internal/gifts?api_key=SECRET"]}` + routes,
			"upstreams.gifts.urls[1]", `"…@gifts.internal/gifts?api_key=…"`},
		{"does not parse", `
upstreams:
  gifts: {url: "http://user:PA SS@gifts.internal:9x/gifts?api_key=SECRET"}` + routes,
			"upstreams.gifts.url", `"http://…@gifts.internal:9x/gifts?api_key=…" is not a URL`},
		{"jetstream", `
delivery: {backend: jetstream, jetstream: {url: "http://user:PASS@nats.internal:4222"}}` + minimal,
			"delivery.jetstream.url", `"http://…@nats.internal:4222"`},
		{"tracing endpoint without a scheme", `
tracing: {endpoint: "otel:PASS@collector.internal:4318/v1?key=SECRET"}` + minimal,
			"tracing.endpoint", `"…@collector.internal:4318/v1?key=…" is not an http`},
		{"ACME directory without a scheme", `
server: {listen: ":443", tls: {acme: {domains: [callbacks.example.com], ca: "acct:PASS@ca.internal/dir?token=SECRET"}}}` + minimal,
			"server.tls.acme.ca", `"…@ca.internal/dir?token=…" is not an https`},
		{"a URL where a number goes", `
server: {max_conns: "http://user:PASS@x/?k=SECRET"}` + minimal,
			"server.max_conns", "server.max_conns: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Another problem beside the URL: every message of the refusal is masked.
			_, err := config.Parse(strings.NewReader(tt.yaml + "\nlog: {level: verbose}"))
			if err == nil {
				t.Fatal("Parse() = nil, want errors")
			}
			if !hasKey(err, tt.key) {
				t.Errorf("Parse() error does not name %s:\n%v", tt.key, err)
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Parse() error does not show %s:\n%v", tt.want, err)
			}
			for _, secret := range strings.Split(secrets, "|") {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("Parse() error shows %q:\n%v", secret, err)
				}
			}
		})
	}
}

// TestParseReportsProblemsBesideDecodeFailures: an unknown key or a value of the wrong type
// does not stop validation; the rest of the file is still checked, every problem reported
// once with its key, and nothing is reported twice for a value that did not decode.
func TestParseReportsProblemsBesideDecodeFailures(t *testing.T) {
	tests := []struct {
		name string
		yaml string
		want []string // exactly the keys reported
	}{
		{name: "misspelt key, missing upstream, deadline over the window", yaml: `
defaults: {dedline: 1500ms}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: giftz
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 2500ms
`, want: []string{"defaults.dedline", "routes[0].upstream", "routes[1].deadline"}},
		{name: "unknown keys beside a value of the wrong type in the same route", yaml: `
sever: {listen: ":8080"}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: abc
    retires: 2
  - commands: ["Mic.*"]
    upstream: giftz
`, want: []string{"sever", "routes[0].retires", "routes[0].deadline", "routes[1].upstream"}},
		{name: "a window without a unit is reported once, not again as zero", yaml: `
tencent: {window: 2}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: gifts
    retries: 99
`, want: []string{"tencent.window", "routes[0].retries"}},
		{name: "an upstream that did not decode is still defined for its routes", yaml: `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts", max_conns: many}
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: 2500ms
`, want: []string{"upstreams.gifts.max_conns", "routes[0].deadline"}},
		{name: "an unknown key inside an upstream keeps the upstream", yaml: `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts", uri: "http://x/"}
routes:
  - commands: ["*"]
    upstream: gifts
    deadline: 2500ms
`, want: []string{"upstreams.gifts.uri", "routes[0].deadline"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := config.Parse(strings.NewReader(tt.yaml))
			if err == nil {
				t.Fatal("Parse() = nil, want errors")
			}
			var got []string
			for _, p := range problems(err) {
				var pr config.Problem
				if !errors.As(p, &pr) {
					t.Errorf("problem %q names no key", p)
					continue
				}
				got = append(got, pr.Key)
			}
			slices.Sort(got)
			slices.Sort(tt.want)
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse() reported keys %q, want %q:\n%v", got, tt.want, err)
			}
		})
	}
}

func TestLoadFileEnvironmentOverrides(t *testing.T) {
	path := testutil.WriteFile(t, "config.yaml", `
tencent:
  auth_token: "from-the-file"
`+minimal)
	t.Setenv("CALLBACK_ROUTER_TENCENT_AUTH_TOKEN", "tok")
	t.Setenv("CALLBACK_ROUTER_SERVER_LISTEN", "127.0.0.1:7070") // absent from the file
	t.Setenv("CALLBACK_ROUTER_DEFAULTS_DEADLINE", "900ms")
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile() = %v", err)
	}
	if got, want := cfg.Tencent.AuthToken, "tok"; got != want {
		t.Errorf("tencent.auth_token = %q, want %q", got, want)
	}
	if got, want := cfg.Server.Listen, "127.0.0.1:7070"; got != want {
		t.Errorf("server.listen = %q, want %q", got, want)
	}
	if got, want := *cfg.Defaults.Deadline, 900*time.Millisecond; got != want {
		t.Errorf("defaults.deadline = %v, want %v", got, want)
	}

	// Parse reads a config that is not a file, and leaves the environment alone.
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err = config.Parse(f)
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	if got, want := cfg.Tencent.AuthToken, "from-the-file"; got != want {
		t.Errorf("Parse: tencent.auth_token = %q, want %q", got, want)
	}
}

// TestLoadFileEnvironmentListOverrides: an environment variable sets a list key as a
// comma-separated value, whatever its elements are: strings, integers or SdkAppids.
func TestLoadFileEnvironmentListOverrides(t *testing.T) {
	path := testutil.WriteFile(t, "config.yaml", minimal)
	tests := []struct {
		env, value string
		got        func(*config.Config) any
		want       any
	}{
		{env: "CALLBACK_ROUTER_SERVER_TRUSTED_PROXIES", value: "10.0.0.0/8,192.168.0.0/16",
			got: func(c *config.Config) any { return c.Server.TrustedProxies }, want: []string{"10.0.0.0/8", "192.168.0.0/16"}},
		{env: "CALLBACK_ROUTER_TENCENT_SDK_APP_IDS", value: "1400000001,1400000002",
			got: func(c *config.Config) any { return c.Tencent.SdkAppIDs }, want: []uint64{1400000001, 1400000002}},
		{env: "CALLBACK_ROUTER_TENCENT_SDK_APP_IDS", value: "1400000001",
			got: func(c *config.Config) any { return c.Tencent.SdkAppIDs }, want: []uint64{1400000001}},
		{env: "CALLBACK_ROUTER_DEFAULTS_RETRY_ON", value: "502, 503",
			got: func(c *config.Config) any { return c.Defaults.RetryOn }, want: []int{502, 503}},
	}
	for _, tt := range tests {
		t.Run(tt.env+"="+tt.value, func(t *testing.T) {
			t.Setenv(tt.env, tt.value)
			cfg, err := config.LoadFile(path)
			if err != nil {
				t.Fatalf("LoadFile() = %v", err)
			}
			if got := tt.got(cfg); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %#v, want %#v", got, tt.want)
			}
		})
	}
}

// TestLoadFileEnvironmentSetsKeysWithoutDefault: a key with no default, which the file
// leaves out, is still set from the environment, and what it is set to is validated.
func TestLoadFileEnvironmentSetsKeysWithoutDefault(t *testing.T) {
	path := testutil.WriteFile(t, "config.yaml", minimal)
	t.Setenv("CALLBACK_ROUTER_DEFAULTS_FALLBACK_ACTION", "deny")
	t.Setenv("CALLBACK_ROUTER_DEFAULTS_FALLBACK_ERROR_CODE", "1")
	cfg, err := config.LoadFile(path)
	if err != nil {
		t.Fatalf("LoadFile() = %v", err)
	}
	if got := cfg.Defaults.Fallback.ErrorCode; got == nil || *got != 1 {
		t.Errorf("defaults.fallback.error_code: got %v, want 1 from the environment", got)
	}
	t.Setenv("CALLBACK_ROUTER_DEFAULTS_FALLBACK_ERROR_CODE", "102101")
	if _, err := config.LoadFile(path); err == nil || !hasKey(err, "defaults.fallback.error_code") {
		t.Errorf("LoadFile() = %v, want an error naming defaults.fallback.error_code", err)
	}
}

func TestLoadFileEnvironmentOverrideIsValidated(t *testing.T) {
	path := testutil.WriteFile(t, "config.yaml", minimal)
	t.Setenv("CALLBACK_ROUTER_TENCENT_WINDOW", "2") // no unit
	_, err := config.LoadFile(path)
	if err == nil || !hasKey(err, "tencent.window") {
		t.Errorf("LoadFile() = %v, want an error naming tencent.window", err)
	}
}

func TestLoadFileErrors(t *testing.T) {
	tests := []struct {
		name string
		path func(t *testing.T) string
		text string
	}{
		{name: "empty file", text: "empty", path: func(t *testing.T) string { return testutil.WriteFile(t, "config.yaml", "") }},
		{name: "whitespace only", text: "empty", path: func(t *testing.T) string { return testutil.WriteFile(t, "config.yaml", "\n  \n") }},
		{name: "missing file", text: "no such file", path: func(t *testing.T) string { return filepath.Join(t.TempDir(), "absent.yaml") }},
		{name: "not YAML", text: "YAML", path: func(t *testing.T) string { return testutil.WriteFile(t, "config.yaml", "routes: [\n") }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.LoadFile(tt.path(t))
			if err == nil {
				t.Fatalf("LoadFile() = %+v, nil; want an error", cfg)
			}
			if !strings.Contains(err.Error(), tt.text) {
				t.Errorf("LoadFile() = %v, want it to mention %q", err, tt.text)
			}
		})
	}
}

func TestCommittedConfigsValidate(t *testing.T) {
	examples, err := filepath.Glob("../examples/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := len(examples), 2; got < want {
		t.Errorf("examples/*.yaml: got %d files, want at least %d", got, want)
	}
	for _, path := range append([]string{"../config.yaml"}, examples...) {
		if filepath.Base(path) == "prometheus-alerts.yaml" {
			continue // Prometheus rules, not a router config (metrics tests check it)
		}
		t.Run(filepath.Base(path), func(t *testing.T) {
			if _, err := config.LoadFile(path); err != nil {
				t.Errorf("LoadFile(%s) = %v", path, err)
			}
		})
	}
}

// TestCommittedConfigShowsTheDefaults keeps config.yaml, which says "the values shown are
// the defaults unless a comment says otherwise", in step with config.Default.
func TestCommittedConfigShowsTheDefaults(t *testing.T) {
	f, err := os.Open("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := config.Parse(f)
	if err != nil {
		t.Fatal(err)
	}
	def := map[string]any{}
	for _, s := range config.Settings(config.Default()) {
		def[s.Key] = s.Value
	}
	// Set on purpose, with a comment saying so.
	example := map[string]bool{"tencent.sdk_app_ids": true}
	for _, s := range config.Settings(cfg) {
		if !example[s.Key] && !reflect.DeepEqual(s.Value, def[s.Key]) {
			t.Errorf("config.yaml sets %s to %v, want the default %v", s.Key, s.Value, def[s.Key])
		}
	}
}

func TestMatchCommand(t *testing.T) {
	tests := []struct {
		pattern, command string
		want             bool
	}{
		{"*", "Live.CallbackBeforeSendGift", true},
		{"*", "", true},
		{"Live.CallbackAfter*", "Live.CallbackAfterCreateRoom", true},
		{"Live.CallbackAfter*", "live.callbackaftercreateroom", true},
		{"Live.CallbackAfter*", "Live.CallbackAfter", true},
		{"Live.CallbackAfter*", "Live.CallbackBeforeSendGift", false},
		{"Live.CallbackAfter*", "Live.Callback", false},
		{"Live.CallbackBeforeSendGift", "LIVE.CALLBACKBEFORESENDGIFT", true},
		{"Live.CallbackBeforeSendGift", "Live.CallbackBeforeSendGift2", false},
	}
	for _, tt := range tests {
		t.Run(tt.pattern+" "+tt.command, func(t *testing.T) {
			if got, want := config.MatchCommand(tt.pattern, tt.command), tt.want; got != want {
				t.Errorf("MatchCommand(%q, %q) = %v, want %v", tt.pattern, tt.command, got, want)
			}
		})
	}
}
