package metrics_test

import (
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/shadow"
	"github.com/callback-router/callback-router/tracing"
)

const shadowedRoute = `
upstreams:
  moderation: {url: "http://127.0.0.1:9002/moderation"}
  moderation_v2: {url: "http://127.0.0.1:9004/moderation"}
routes:
  - name: moderation
    commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: {upstream: moderation_v2}
`

func TestShadowedCountsByResult(t *testing.T) {
	m := metrics.New()
	m.Install(routertest.Table(t, shadowedRoute, router.Options{}))
	m.Shadowed(server.ShadowEvent{Route: "moderation", Result: shadow.Verdict, Duration: 20 * time.Millisecond})
	m.Shadowed(server.ShadowEvent{Route: "moderation", Result: shadow.Agree, Duration: 5 * time.Millisecond})
	m.Shadowed(server.ShadowEvent{Route: "moderation", Result: shadow.Agree, Duration: 5 * time.Millisecond})
	m.Shadowed(server.ShadowEvent{Route: "moderation", Result: shadow.Skipped}) // never called: not timed
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_shadow_total{result="verdict",route="moderation"} 1`,
		`callback_router_shadow_total{result="agree",route="moderation"} 2`,
		`callback_router_shadow_total{result="skipped",route="moderation"} 1`,
		`callback_router_shadow_duration_seconds_count{route="moderation"} 3`,
	)

	// A reload that takes the shadow out drops its series.
	m.Install(routertest.Table(t, strings.Replace(shadowedRoute, "    shadow: {upstream: moderation_v2}\n", "", 1), router.Options{}))
	if text := scrape(t, m); strings.Contains(text, "callback_router_shadow_total{") || strings.Contains(text, "callback_router_shadow_duration_seconds_count{") {
		t.Errorf("/metrics keeps shadow series of a route that no longer shadows:\n%s", text)
	}
}

func TestNamesListsShadowMetrics(t *testing.T) {
	names := metrics.New().Names()
	for _, want := range []string{"callback_router_shadow_total", "callback_router_shadow_duration_seconds"} {
		if !contains(names, want) {
			t.Errorf("Names() lacks %s", want)
		}
	}
}

func TestTraceSpanCounts(t *testing.T) {
	m := metrics.New()
	if text := scrape(t, m); strings.Contains(text, "callback_router_trace_spans") {
		t.Errorf("/metrics reports trace spans with tracing off")
	}
	m.WatchTracing(func() tracing.Counts { return tracing.Counts{Exported: 7, QueueFull: 3, ExportFailed: 2} })
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_trace_spans_exported_total 7`,
		`callback_router_trace_spans_dropped_total{reason="queue_full"} 3`,
		`callback_router_trace_spans_dropped_total{reason="export_failed"} 2`,
	)
}
