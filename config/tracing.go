package config

import (
	"math"
	"net/url"

	"github.com/callback-router/callback-router/redact"
)

// Tracing configures OpenTelemetry traces, exported over OTLP/HTTP. Every key needs a
// restart: the exporter is built once at start.
type Tracing struct {
	// Endpoint is the collector's OTLP/HTTP base URL, such as http://otel-collector:4318
	// (spans go to its /v1/traces). Empty: OTEL_EXPORTER_OTLP_ENDPOINT if set, else tracing
	// is off.
	Endpoint string `mapstructure:"endpoint"`
	// SampleRatio is the share of callbacks traced, 0 to 1, unless an incoming traceparent
	// decides. Default 0.05.
	SampleRatio float64 `mapstructure:"sample_ratio"`
	// ServiceName is the service.name of every span. Default callback-router.
	ServiceName string `mapstructure:"service_name"`
}

// validateTracing checks the tracing keys; an empty endpoint is valid (off, or the
// environment's).
func (c *Config) validateTracing(p *problems) {
	t := c.Tracing
	if t.Endpoint != "" {
		u, err := url.Parse(t.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			p.add("tracing.endpoint", "%q is not an http:// or https:// URL such as http://otel-collector:4318", redact.URL(t.Endpoint))
		case u.User != nil || u.RawQuery != "" || u.Fragment != "":
			p.add("tracing.endpoint", "must not carry credentials, a query or a fragment (set headers with OTEL_EXPORTER_OTLP_HEADERS)")
		}
	}
	if r := t.SampleRatio; math.IsNaN(r) || r < 0 || r > 1 {
		p.add("tracing.sample_ratio", "%v is outside 0..1 (0.05 traces one callback in twenty)", r)
	}
	if t.ServiceName == "" {
		p.add("tracing.service_name", "is empty; spans need a service name (the default is callback-router)")
	}
}
