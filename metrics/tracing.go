package metrics

import (
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/callback-router/callback-router/tracing"
)

// traceCollector reads the tracer's span counts at scrape time; it reports nothing while
// tracing is off.
type traceCollector struct {
	counts            atomic.Pointer[func() tracing.Counts]
	exported, dropped *prometheus.Desc
}

func newTraceCollector() *traceCollector {
	return &traceCollector{
		exported: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "trace_spans_exported_total"),
			"Spans the trace collector took.", nil, nil),
		dropped: prometheus.NewDesc(prometheus.BuildFQName(namespace, "", "trace_spans_dropped_total"),
			"Spans lost on the way to the trace collector, by reason: queue_full (the collector is slow or down and the export queue was full), export_failed (the collector refused or did not answer an export).",
			[]string{"reason"}, nil),
	}
}

// WatchTracing has the metrics report the tracer's span counts.
func (m *Metrics) WatchTracing(counts func() tracing.Counts) {
	m.traces.counts.Store(&counts)
}

func (c *traceCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.exported
	ch <- c.dropped
}

func (c *traceCollector) Collect(ch chan<- prometheus.Metric) {
	f := c.counts.Load()
	if f == nil {
		return
	}
	n := (*f)()
	ch <- prometheus.MustNewConstMetric(c.exported, prometheus.CounterValue, float64(n.Exported))
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(n.QueueFull), "queue_full")
	ch <- prometheus.MustNewConstMetric(c.dropped, prometheus.CounterValue, float64(n.ExportFailed), "export_failed")
}
