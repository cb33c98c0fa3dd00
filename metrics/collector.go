package metrics

import (
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/router"
)

// Queue is what the metrics read from the delivery backend.
type Queue interface{ Stats() delivery.Stats }

// source is where the scrape-time metrics are read from.
type source struct {
	table func() *router.Table
	queue Queue
}

// liveCollector reads, at scrape time, what the router already keeps: in-flight counters of
// the current routes, breaker states, the queue's depth and counts. Nothing on the request
// path updates it, and a retired route or upstream simply stops being reported.
type liveCollector struct {
	src atomic.Pointer[source]

	inFlight, deadline, breaker, depth, delivered, dropped, loaded *prometheus.Desc
	// The durable queue's: its size, the oldest callback waiting, dead letters, deliveries
	// by outcome and callbacks refused.
	queueBytes, oldest, dead, deliveries, refused *prometheus.Desc
}

func newLiveCollector() *liveCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &liveCollector{
		inFlight:  d("route_in_flight", "Callbacks of an app a route is handling now (its max_in_flight bounds the sum over apps).", "app", "route"),
		deadline:  d("route_deadline_seconds", "A route's configured deadline, to compare latency quantiles with; one series per app the route admits.", "app", "route"),
		breaker:   d("breaker_state", "Circuit breaker state per upstream instance: 0 closed, 1 half-open, 2 open.", "upstream", "instance"),
		depth:     d("async_queue_depth", "Async callbacks queued or being retried."),
		delivered: d("async_delivered_total", "Async callbacks delivered."),
		dropped:   d("async_dropped_total", "Async callbacks given up (older than delivery.max_age, or lost at shutdown)."),
		loaded:    d("config_loaded_timestamp_seconds", "When the running config was loaded, in Unix seconds."),

		queueBytes: d("async_queue_bytes", "Bytes of the async callbacks waiting in the delivery store (compare with delivery.max_bytes)."),
		oldest:     d("async_queue_oldest_age_seconds", "Age of the oldest callback waiting for delivery; 0 when none waits."),
		dead:       d("async_dead_letters", "Callbacks in the dead letters, given up after delivery.max_age and not yet replayed or dropped."),
		deliveries: d("async_deliveries_total", "Delivery attempts of async callbacks and journaled verdicts, by outcome (delivered, failed, dead_lettered).", "outcome"),
		refused:    d("async_enqueue_refused_total", "Callbacks the delivery store refused, answered with the route's fallback, by reason (full, error).", "reason"),
	}
}

// Watch points the scrape-time metrics at the current table and the delivery queue (nil
// when there is none).
func (m *Metrics) Watch(table func() *router.Table, q Queue) {
	m.live.src.Store(&source{table: table, queue: q})
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inFlight, c.deadline, c.breaker, c.depth, c.delivered, c.dropped, c.loaded,
		c.queueBytes, c.oldest, c.dead, c.deliveries, c.refused} {
		ch <- d
	}
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	if t := src.table(); t != nil {
		for _, a := range t.Apps {
			for _, r := range t.Routes {
				if !r.Admits(a.Name) {
					continue
				}
				ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(r.InFlightOf(a)), a.Name, r.Name)
				ch <- prometheus.MustNewConstMetric(c.deadline, prometheus.GaugeValue, r.Deadline.Seconds(), a.Name, r.Name)
			}
		}
		for name, up := range t.Upstreams {
			for _, s := range up.States() {
				ch <- prometheus.MustNewConstMetric(c.breaker, prometheus.GaugeValue, breakerValue(s.State.String()), name, s.URL)
			}
		}
		ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.GaugeValue, float64(t.LoadedAt.UnixNano())/1e9)
	}
	if q := src.queue; q != nil {
		c.collectQueue(ch, q.Stats())
	}
}

func (c *liveCollector) collectQueue(ch chan<- prometheus.Metric, st delivery.Stats) {
	gauge := func(d *prometheus.Desc, v float64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v, labels...)
	}
	counter := func(d *prometheus.Desc, v uint64, labels ...string) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, float64(v), labels...)
	}
	gauge(c.depth, float64(st.Pending))
	gauge(c.queueBytes, float64(st.PendingBytes))
	var age float64
	if !st.Oldest.IsZero() {
		age = max(time.Since(st.Oldest).Seconds(), 0)
	}
	gauge(c.oldest, age)
	gauge(c.dead, float64(st.Dead))
	counter(c.delivered, st.Delivered)
	counter(c.dropped, st.DeadAdded)
	counter(c.deliveries, st.Delivered, "delivered")
	counter(c.deliveries, st.Failed, "failed")
	counter(c.deliveries, st.DeadAdded, "dead_lettered")
	counter(c.refused, st.Refused, "full")
	counter(c.refused, st.Errors, "error")
}
