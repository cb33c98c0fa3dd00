package metrics

import (
	"net/http"
	"regexp"
	"slices"
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// namespace prefixes every metric name.
const namespace = "callback_router"

// latencyBuckets resolve Tencent's 2 s window: fine below 100 ms where healthy upstreams
// answer, and every 100–250 ms up to the window, so that a p99 creeping towards a 1.5 s or
// 1.8 s deadline is visible before callbacks hit it.
var latencyBuckets = []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, .75, 1, 1.25, 1.5, 1.6, 1.7, 1.8, 1.9, 2, 2.5}

// ageBuckets resolve how long async callbacks wait for delivery, up to delivery.max_age.
var ageBuckets = []float64{.005, .01, .05, .1, .5, 1, 5, 10, 30, 60, 120, 300, 600, 1800}

// Metrics records the router's metrics in its own registry. It is safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry
	own []prometheus.Collector // the router's collectors, for Names

	callbacks          *prometheus.CounterVec   // app, command, route, decision
	duration           *prometheus.HistogramVec // app, route
	fallbacks          *prometheus.CounterVec   // app, route, reason
	rejections         *prometheus.CounterVec   // app, code
	signVerified       *prometheus.CounterVec   // app, token
	attempts           *prometheus.CounterVec   // upstream
	responses          *prometheus.CounterVec   // upstream, status
	retries            *prometheus.CounterVec   // upstream
	queryDropped       *prometheus.CounterVec   // upstream
	breakerTransitions *prometheus.CounterVec   // upstream, instance, to
	reloads            prometheus.Counter
	reloadFailures     prometheus.Counter
	lastReloadOK       prometheus.Gauge
	asyncAge           *prometheus.HistogramVec // result
	shadow             shadowMetrics
	traces             *traceCollector
	live               *liveCollector

	mu        sync.RWMutex
	routes    map[routeKey]*routeSet
	upstreams map[string]*upstreamSet
	rejects   map[rejectKey]prometheus.Counter
	signs     map[string][]prometheus.Counter // by app, by token slot
	apps      map[string]*router.App          // the apps of the current table
	instances map[instanceKey]bool            // the breakers of the current table
}

var (
	_ server.Observer         = (*Metrics)(nil)
	_ server.DeliveryObserver = (*Metrics)(nil)
)

// New returns Metrics with the Go runtime and process collectors registered beside the
// router's own.
func New() *Metrics {
	m := &Metrics{
		reg:       prometheus.NewRegistry(),
		routes:    map[routeKey]*routeSet{},
		upstreams: map[string]*upstreamSet{},
		rejects:   map[rejectKey]prometheus.Counter{},
		signs:     map[string][]prometheus.Counter{},
		apps:      map[string]*router.App{},
		instances: map[instanceKey]bool{},
	}
	m.callbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "callbacks_total",
		Help: "Callbacks answered, by app (none: refused before it was known), command (catalogue name, other or none), route and decision (upstream, allow, deny, queued, rejected)."},
		[]string{"app", "command", "route", "decision"})
	m.duration = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "callback_duration_seconds",
		Help: "Time from a callback's arrival to its answer, by app and route.", Buckets: latencyBuckets},
		[]string{"app", "route"})
	m.fallbacks = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "fallbacks_total",
		Help: "Callbacks the router answered with the route's fallback verdict, by app, route and reason."},
		[]string{"app", "route", "reason"})
	m.rejections = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "rejections_total",
		Help: "Requests refused before routing (4xx), by app (none: refused before it was known) and code."},
		[]string{"app", "code"})
	m.signVerified = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "sign_verified_total",
		Help: "Callbacks whose Sign a token verified, by app and the token's position in the app's list (tokens, then tokens_file); a slot that stops counting holds a token no longer in use."},
		[]string{"app", "token"})
	m.attempts = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "upstream_attempts_total",
		Help: "HTTP attempts made to an upstream for synchronous callbacks, retries included."},
		[]string{"upstream"})
	m.responses = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "upstream_responses_total",
		Help: "Forwarded synchronous callbacks by upstream and the status of its last answer (none: no HTTP answer)."},
		[]string{"upstream", "status"})
	m.retries = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "upstream_retries_total",
		Help: "Attempts beyond the first for synchronous callbacks, by upstream."},
		[]string{"upstream"})
	m.queryDropped = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "upstream_query_params_dropped_total",
		Help: "Incoming query parameters not forwarded because the upstream URL sets a parameter of that name itself, by upstream."},
		[]string{"upstream"})
	m.breakerTransitions = prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: "breaker_transitions_total",
		Help: "Circuit breaker state changes per upstream instance, by the state entered."},
		[]string{"upstream", "instance", "to"})
	m.reloads = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "config_reloads_total",
		Help: "Config reloads installed."})
	m.reloadFailures = prometheus.NewCounter(prometheus.CounterOpts{Namespace: namespace, Name: "config_reload_failures_total",
		Help: "Config reloads refused (invalid file); the running config stayed."})
	m.lastReloadOK = prometheus.NewGauge(prometheus.GaugeOpts{Namespace: namespace, Name: "config_last_reload_successful",
		Help: "1 when the last reload attempt was installed (or none was made), 0 when it was refused."})
	m.lastReloadOK.Set(1)
	m.asyncAge = prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: "async_delivery_age_seconds",
		Help: "Age of async callbacks when they left the queue, by result (delivered, dropped).", Buckets: ageBuckets},
		[]string{"result"})
	m.shadow = newShadowMetrics()
	m.traces = newTraceCollector()
	m.live = newLiveCollector()
	m.own = []prometheus.Collector{m.callbacks, m.duration, m.fallbacks, m.rejections, m.signVerified, m.attempts, m.responses,
		m.retries, m.queryDropped, m.breakerTransitions, m.reloads, m.reloadFailures, m.lastReloadOK, m.asyncAge,
		m.shadow.results, m.shadow.duration, m.traces, m.live}
	m.reg.MustRegister(m.own...)
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry holding every metric, for tests and extra collectors.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text (or OpenMetrics) format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, EnableOpenMetrics: true})
}

var fqName = regexp.MustCompile(`fqName: "([^"]+)"`)

// Names returns the name of every metric the router itself exports (not the Go runtime's or
// the process's), sorted, whether or not it has been recorded yet.
func (m *Metrics) Names() []string {
	ch := make(chan *prometheus.Desc, 64)
	go func() {
		for _, c := range m.own {
			c.Describe(ch)
		}
		close(ch)
	}()
	var out []string
	for d := range ch {
		if s := fqName.FindStringSubmatch(d.String()); s != nil {
			out = append(out, s[1])
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}
