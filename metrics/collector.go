package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/router"
)

// Queue is what the metrics read from the async delivery queue.
type Queue interface {
	Depth() int64
	Delivered() uint64
	Dropped() uint64
}

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
}

func newLiveCollector() *liveCollector {
	d := func(name, help string, labels ...string) *prometheus.Desc {
		return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
	}
	return &liveCollector{
		inFlight:  d("route_in_flight", "Callbacks a route is handling now.", "route"),
		deadline:  d("route_deadline_seconds", "A route's configured deadline, to compare latency quantiles with.", "route"),
		breaker:   d("breaker_state", "Circuit breaker state per upstream instance: 0 closed, 1 half-open, 2 open.", "upstream", "instance"),
		depth:     d("async_queue_depth", "Async callbacks queued or being retried."),
		delivered: d("async_delivered_total", "Async callbacks delivered."),
		dropped:   d("async_dropped_total", "Async callbacks given up (older than delivery.max_age, or lost at shutdown)."),
		loaded:    d("config_loaded_timestamp_seconds", "When the running config was loaded, in Unix seconds."),
	}
}

// Watch points the scrape-time metrics at the current table and the delivery queue (nil
// when there is none).
func (m *Metrics) Watch(table func() *router.Table, q Queue) {
	m.live.src.Store(&source{table: table, queue: q})
}

func (c *liveCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.inFlight, c.deadline, c.breaker, c.depth, c.delivered, c.dropped, c.loaded} {
		ch <- d
	}
}

func (c *liveCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.src.Load()
	if src == nil {
		return
	}
	if t := src.table(); t != nil {
		for _, r := range t.Routes {
			ch <- prometheus.MustNewConstMetric(c.inFlight, prometheus.GaugeValue, float64(r.InFlight()), r.Name)
			ch <- prometheus.MustNewConstMetric(c.deadline, prometheus.GaugeValue, r.Deadline.Seconds(), r.Name)
		}
		for name, up := range t.Upstreams {
			for _, s := range up.States() {
				ch <- prometheus.MustNewConstMetric(c.breaker, prometheus.GaugeValue, breakerValue(s.State.String()), name, s.URL)
			}
		}
		ch <- prometheus.MustNewConstMetric(c.loaded, prometheus.GaugeValue, float64(t.LoadedAt.UnixNano())/1e9)
	}
	if q := src.queue; q != nil {
		ch <- prometheus.MustNewConstMetric(c.depth, prometheus.GaugeValue, float64(q.Depth()))
		ch <- prometheus.MustNewConstMetric(c.delivered, prometheus.CounterValue, float64(q.Delivered()))
		ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(q.Dropped()))
	}
}
