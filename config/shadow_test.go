package config_test

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/config"
)

// twoUpstreams defines a primary and a candidate for the shadow cases.
const twoUpstreams = `
upstreams:
  moderation: {url: "http://127.0.0.1:9002/moderation"}
  moderation_v2: {url: "http://127.0.0.1:9004/moderation"}
`

func TestShadowDefaultsAndValues(t *testing.T) {
	tests := []struct {
		name        string
		yaml        string
		wantPercent float64
		wantMax     int
	}{
		{name: "defaults", wantPercent: 100, wantMax: 64, yaml: twoUpstreams + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: {upstream: moderation_v2}`},
		{name: "set", wantPercent: 12.5, wantMax: 3, yaml: twoUpstreams + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: {upstream: Moderation_V2, percent: 12.5, max_in_flight: 3}`},
		{name: "paused", wantPercent: 0, wantMax: 64, yaml: twoUpstreams + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: {upstream: moderation_v2, percent: 0}`},
		{name: "route answering from config", wantPercent: 100, wantMax: 64, yaml: twoUpstreams + `
routes:
  - commands: ["*"]
    shadow: {upstream: moderation_v2}`},
		{name: "async route", wantPercent: 50, wantMax: 64, yaml: twoUpstreams + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: moderation
    async: true
    shadow: {upstream: moderation_v2, percent: 50}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(tt.yaml))
			if err != nil {
				t.Fatalf("Parse() = %v, want no error", err)
			}
			s := cfg.Routes[0].Shadow
			if s == nil {
				t.Fatal("routes[0].shadow = nil")
			}
			if got, want := s.ShadowPercent(), tt.wantPercent; got != want {
				t.Errorf("percent: got %v, want %v", got, want)
			}
			if got, want := s.ShadowMaxInFlight(), tt.wantMax; got != want {
				t.Errorf("max_in_flight: got %d, want %d", got, want)
			}
		})
	}
}

func TestTracingDefaults(t *testing.T) {
	cfg, err := config.Parse(strings.NewReader(minimal))
	if err != nil {
		t.Fatal(err)
	}
	tr := cfg.Tracing
	if got, want := tr.Endpoint, ""; got != want {
		t.Errorf("tracing.endpoint: got %q, want %q (off)", got, want)
	}
	if got, want := tr.SampleRatio, 0.05; got != want {
		t.Errorf("tracing.sample_ratio: got %v, want %v", got, want)
	}
	if got, want := tr.ServiceName, "callback-router"; got != want {
		t.Errorf("tracing.service_name: got %q, want %q", got, want)
	}
}

func TestShadowAndTracingInvalid(t *testing.T) {
	route := func(shadow string) string {
		return twoUpstreams + `
routes:
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: ` + shadow
	}
	tests := []struct {
		name string
		yaml string
		key  string // the key the error must name
		text string // and, if set, a word of its message
	}{
		{name: "candidate missing", key: "routes[0].shadow.upstream", text: "not defined", yaml: route(`{upstream: moderation_v3}`)},
		{name: "candidate empty", key: "routes[0].shadow.upstream", text: "empty", yaml: route(`{percent: 10}`)},
		{name: "candidate is the primary", key: "routes[0].shadow.upstream", text: "own upstream", yaml: route(`{upstream: MODERATION}`)},
		{name: "percent over 100", key: "routes[0].shadow.percent", text: "0..100", yaml: route(`{upstream: moderation_v2, percent: 150}`)},
		{name: "percent negative", key: "routes[0].shadow.percent", yaml: route(`{upstream: moderation_v2, percent: -1}`)},
		{name: "max_in_flight zero", key: "routes[0].shadow.max_in_flight", text: "positive", yaml: route(`{upstream: moderation_v2, max_in_flight: 0}`)},
		{name: "unknown shadow key", key: "routes[0].shadow.sample", text: "unknown key", yaml: route(`{upstream: moderation_v2, sample: 5}`)},
		{name: "max_in_flight on an async route", key: "routes[0].shadow.max_in_flight", text: "delivery store", yaml: twoUpstreams + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: moderation
    async: true
    shadow: {upstream: moderation_v2, max_in_flight: 5}`},
		{name: "candidate among the fan-out", key: "routes[0].shadow.upstream", text: "own upstream", yaml: twoUpstreams + `
routes:
  - commands: ["Live.CallbackAfter*"]
    upstreams: [moderation, moderation_v2]
    async: true
    shadow: {upstream: moderation_v2}`},
		{name: "tracing endpoint not a URL", key: "tracing.endpoint", text: "http://", yaml: `
tracing: {endpoint: "otel-collector:4318"}` + minimal},
		{name: "tracing endpoint with credentials", key: "tracing.endpoint", text: "credentials", yaml: `
tracing: {endpoint: "http://user:secret@otel-collector:4318"}` + minimal},
		{name: "tracing ratio over 1", key: "tracing.sample_ratio", text: "0..1", yaml: `
tracing: {sample_ratio: 5}` + minimal},
		{name: "tracing service name empty", key: "tracing.service_name", yaml: `
tracing: {service_name: ""}` + minimal},
		{name: "unknown tracing key", key: "tracing.ratio", text: "unknown key", yaml: `
tracing: {ratio: 0.5}` + minimal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			checkRefused(t, tt.yaml, tt.key, tt.text)
		})
	}
}
