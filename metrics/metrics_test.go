package metrics_test

import (
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// twoRoutes has a gifts route and a catch-all, other, answered from config.
var twoRoutes = giftsConfig(`{name: other, commands: ["*"]}`).String()

// scrape returns the /metrics text.
// wantSeries fails t for each line, a series and its value, that the exposition text lacks.
func wantSeries(t *testing.T, text string, lines ...string) {
	t.Helper()
	for _, line := range lines {
		if !strings.Contains(text, line+"\n") {
			t.Errorf("/metrics lacks %s", line)
		}
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if got, want := rec.Code, 200; got != want {
		t.Fatalf("/metrics status: got %d, want %d", got, want)
	}
	return rec.Body.String()
}

func TestObserveCountsByLabels(t *testing.T) {
	tests := []struct {
		name  string
		ev    server.Event
		lines []string // exposition lines expected after this one event
	}{
		{name: "upstream answer",
			ev: server.Event{App: "prod", Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 1,
				UpstreamStatus: 200, Status: 200, Decision: server.DecisionUpstream, Latency: 30 * time.Millisecond},
			lines: []string{
				`callback_router_callbacks_total{app="prod",command="Live.CallbackBeforeSendGift",decision="upstream",route="gifts"} 1`,
				`callback_router_upstream_attempts_total{upstream="gifts"} 1`,
				`callback_router_upstream_responses_total{status="200",upstream="gifts"} 1`,
				`callback_router_callback_duration_seconds_bucket{app="prod",route="gifts",le="0.05"} 1`,
				`callback_router_callback_duration_seconds_bucket{app="prod",route="gifts",le="0.025"} 0`,
			}},
		{name: "retried then fell back",
			ev: server.Event{App: "prod", Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 3,
				UpstreamStatus: 503, Status: 200, Decision: server.DecisionDeny, Reason: proxy.ReasonUpstreamError},
			lines: []string{
				`callback_router_callbacks_total{app="prod",command="Live.CallbackBeforeSendGift",decision="deny",route="gifts"} 1`,
				`callback_router_fallbacks_total{app="prod",reason="upstream_error",route="gifts"} 1`,
				`callback_router_upstream_attempts_total{upstream="gifts"} 3`,
				`callback_router_upstream_retries_total{upstream="gifts"} 2`,
				`callback_router_upstream_responses_total{status="503",upstream="gifts"} 1`,
			}},
		{name: "no HTTP answer",
			ev: server.Event{App: "prod", Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 1,
				Decision: server.DecisionAllow, Reason: proxy.ReasonTimeout},
			lines: []string{
				`callback_router_upstream_responses_total{status="none",upstream="gifts"} 1`,
				`callback_router_fallbacks_total{app="prod",reason="timeout",route="gifts"} 1`,
			}},
		{name: "command outside the catalogue",
			ev: server.Event{App: "prod", Command: "Brand.NewThing" + strings.Repeat("x", 100), Route: "other", Decision: server.DecisionAllow, Reason: server.ReasonNoRoute},
			lines: []string{
				`callback_router_callbacks_total{app="prod",command="other",decision="allow",route="other"} 1`,
				`callback_router_fallbacks_total{app="prod",reason="no_route",route="other"} 1`,
			}},
		{name: "refused before routing",
			ev: server.Event{App: "prod", Status: 401, Decision: server.DecisionRejected, RejectCode: "bad_signature"},
			lines: []string{
				`callback_router_callbacks_total{app="prod",command="none",decision="rejected",route="none"} 1`,
				`callback_router_rejections_total{app="prod",code="bad_signature"} 1`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := metrics.New()
			m.Observe(tt.ev)
			text := scrape(t, m)
			wantSeries(t, text, tt.lines...)
		})
	}
}

func TestObserveAllocatesNothing(t *testing.T) {
	m := metrics.New()
	ev := server.Event{Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 2,
		UpstreamStatus: 503, Status: 200, Decision: server.DecisionDeny, Reason: proxy.ReasonUpstreamError, Latency: time.Millisecond}
	m.Observe(ev) // resolves the label children
	if got := testing.AllocsPerRun(1000, func() { m.Observe(ev) }); got != 0 {
		t.Errorf("Observe allocates %v times per callback, want 0", got)
	}
}

func TestLiveMetricsFollowTheTable(t *testing.T) {
	m := metrics.New()
	table := routertest.Table(t, twoRoutes, router.Options{OnBreakerChange: m.BreakerChanged})
	m.Install(table)
	m.Watch(func() *router.Table { return table }, nil)
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_breaker_state{instance="http://127.0.0.1:9001/gifts",upstream="gifts"} 0`,
		`callback_router_route_in_flight{app="any",route="gifts"} 0`,
		`callback_router_route_deadline_seconds{app="any",route="gifts"} 1.5`,
		`callback_router_config_reloads_total 0`,
	)
	if !table.Routes[0].Acquire(table.Apps[0]) {
		t.Fatal("Acquire() = false")
	}
	defer table.Routes[0].Release(table.Apps[0])
	if text := scrape(t, m); !strings.Contains(text, `callback_router_route_in_flight{app="any",route="gifts"} 1`+"\n") {
		t.Errorf("in-flight gauge did not follow the route's counter")
	}
}

func TestInstallDropsSeriesOfRetiredRoutesAndUpstreams(t *testing.T) {
	m := metrics.New()
	old := routertest.Table(t, twoRoutes, router.Options{})
	m.Install(old)
	m.Observe(server.Event{App: "any", Command: "Live.CallbackBeforeSendGift", Route: "gifts", Upstream: "gifts", Attempts: 1, UpstreamStatus: 200, Decision: server.DecisionUpstream})
	m.Observe(server.Event{App: "any", Command: "Group.CallbackBeforeSendMsg", Route: "other", Decision: server.DecisionAllow, Reason: server.ReasonNoRoute})

	next := routertest.Table(t, `
upstreams:
  mod: {url: "http://127.0.0.1:9002/mod"}
routes:
  - name: other
    commands: ["*"]
    upstream: mod
`, router.Options{})
	m.Install(next)
	text := scrape(t, m)
	for _, gone := range []string{`route="gifts"`, `upstream="gifts"`} {
		if strings.Contains(text, gone) {
			t.Errorf("/metrics still has %s after the reload removed it", gone)
		}
	}
	if !strings.Contains(text, `callback_router_callbacks_total{app="any",command="Group.CallbackBeforeSendMsg",decision="allow",route="other"} 1`) {
		t.Errorf("/metrics lost the series of a route that stayed")
	}
}

func TestBreakerTransitionsCountOnlyCurrentInstances(t *testing.T) {
	m := metrics.New()
	table := routertest.Table(t, twoRoutes, router.Options{})
	m.Install(table)
	const inst = "http://127.0.0.1:9001/gifts"
	m.BreakerChanged("gifts", inst, gobreaker.StateClosed, gobreaker.StateOpen)
	m.BreakerChanged("gone", "http://127.0.0.1:1/x", gobreaker.StateClosed, gobreaker.StateOpen)
	if got, want := testutil.CollectAndCount(m.Registry(), "callback_router_breaker_transitions_total"), 1; got != want {
		t.Errorf("breaker_transitions_total series: got %d, want %d", got, want)
	}
	text := scrape(t, m)
	if line := `callback_router_breaker_transitions_total{instance="` + inst + `",to="open",upstream="gifts"} 1`; !strings.Contains(text, line) {
		t.Errorf("/metrics lacks %s", line)
	}
}

func TestReloadedCounts(t *testing.T) {
	m := metrics.New()
	m.Reloaded(true)
	m.Reloaded(false)
	m.Reloaded(false)
	text := scrape(t, m)
	wantSeries(t, text,
		"callback_router_config_reloads_total 1",
		"callback_router_config_reload_failures_total 2",
		"callback_router_config_last_reload_successful 0",
	)
}

func TestNamesListsEveryMetric(t *testing.T) {
	names := metrics.New().Names()
	for _, want := range []string{
		"callback_router_callbacks_total", "callback_router_callback_duration_seconds", "callback_router_fallbacks_total",
		"callback_router_upstream_attempts_total", "callback_router_upstream_responses_total", "callback_router_upstream_retries_total",
		"callback_router_upstream_query_params_dropped_total",
		"callback_router_breaker_state", "callback_router_breaker_transitions_total", "callback_router_route_in_flight",
		"callback_router_config_reloads_total", "callback_router_config_reload_failures_total",
		"callback_router_async_queue_depth", "callback_router_async_delivery_age_seconds",
		"callback_router_async_queue_oldest_age_seconds", "callback_router_async_dead_letters", "callback_router_async_deliveries_total",
		"callback_router_async_enqueue_refused_total", "callback_router_async_queue_bytes",
	} {
		if !contains(names, want) {
			t.Errorf("Names() lacks %s", want)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
