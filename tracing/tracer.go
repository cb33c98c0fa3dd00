package tracing

import (
	"context"
	"errors"
	"net/url"
	"os"
	"strings"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlptrace/otlptracehttp"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"
)

// The environment variables the OTLP exporter reads itself when tracing.endpoint is empty.
const (
	EnvEndpoint       = "OTEL_EXPORTER_OTLP_ENDPOINT"
	EnvTracesEndpoint = "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"
)

// Export tuning. The queue holds a few seconds of spans at the default ratio and thousands
// of callbacks a second; a span is a few hundred bytes, so it costs at most a few MiB.
const (
	DefaultQueueSize     = 4096
	DefaultBatchTimeout  = time.Second
	DefaultExportTimeout = 5 * time.Second
	// batchSize is the most spans one export carries (the SDK's default).
	batchSize = 512
	// instrumentation names the router as the library that made the spans.
	instrumentation = "github.com/callback-router/callback-router"
)

// Settings configure a Tracer.
type Settings struct {
	// Endpoint is the collector's OTLP/HTTP base URL (spans go to its /v1/traces); empty
	// uses OTEL_EXPORTER_OTLP_ENDPOINT or OTEL_EXPORTER_OTLP_TRACES_ENDPOINT, and tracing is
	// off when neither is set.
	Endpoint    string
	SampleRatio float64
	ServiceName string
	// ServiceVersion is the router's version, on every span's resource.
	ServiceVersion string
	// QueueSize, BatchTimeout and ExportTimeout default to the constants above.
	QueueSize     int
	BatchTimeout  time.Duration
	ExportTimeout time.Duration
	// OnError is told why an export failed, at most once per errorEvery; nil drops errors.
	OnError func(error)
}

// Enabled reports whether the settings turn tracing on: an endpoint in the config or the
// environment.
func (s Settings) Enabled() bool {
	return s.Endpoint != "" || os.Getenv(EnvEndpoint) != "" || os.Getenv(EnvTracesEndpoint) != ""
}

// Tracer starts the router's spans and exports them. A nil *Tracer means tracing is off;
// its methods must not be called then.
type Tracer struct {
	// ratio is the share of traces started here that are recorded (sample decides); the
	// SDK's sampler follows the parent, so it records exactly the spans decided so.
	ratio    float64
	tracer   trace.Tracer
	provider *sdktrace.TracerProvider
	queue    *boundedQueue
	exporter *countingExporter
}

// New builds the Tracer the settings describe, or returns nil when tracing is off.
func New(s Settings) (*Tracer, error) {
	if !s.Enabled() {
		return nil, nil
	}
	opts := []otlptracehttp.Option{
		// A failed export is dropped and counted: retrying it would hold the queue while
		// new spans pile up behind it.
		otlptracehttp.WithRetry(otlptracehttp.RetryConfig{Enabled: false}),
		otlptracehttp.WithTimeout(or(s.ExportTimeout, DefaultExportTimeout)),
	}
	if s.Endpoint != "" {
		u, err := tracesURL(s.Endpoint)
		if err != nil {
			return nil, err
		}
		opts = append(opts, otlptracehttp.WithEndpointURL(u))
	}
	exp, err := otlptracehttp.New(context.Background(), opts...)
	if err != nil {
		return nil, err
	}
	res, err := resource.Merge(resource.Default(), resource.NewSchemaless(
		attribute.String("service.name", s.ServiceName),
		attribute.String("service.version", s.ServiceVersion)))
	if err != nil {
		return nil, err
	}
	if s.OnError != nil {
		otel.SetErrorHandler(&throttledErrors{report: s.OnError})
	}
	counted := &countingExporter{SpanExporter: exp}
	queue := newBoundedQueue(or(s.QueueSize, DefaultQueueSize), sdktrace.NewBatchSpanProcessor(counted,
		sdktrace.WithBatchTimeout(or(s.BatchTimeout, DefaultBatchTimeout)),
		sdktrace.WithExportTimeout(or(s.ExportTimeout, DefaultExportTimeout)),
		sdktrace.WithMaxExportBatchSize(batchSize),
		sdktrace.WithMaxQueueSize(batchSize),
		// The bounded queue in front drops; the batcher behind it may wait.
		sdktrace.WithBlocking()))
	provider := sdktrace.NewTracerProvider(
		// Roots reach the SDK only when sample has decided to record them.
		sdktrace.WithSampler(sdktrace.ParentBased(sdktrace.AlwaysSample())),
		sdktrace.WithResource(res),
		sdktrace.WithSpanProcessor(queue))
	return &Tracer{ratio: s.SampleRatio, tracer: provider.Tracer(instrumentation), provider: provider, queue: queue, exporter: counted}, nil
}

// tracesURL turns a collector's base URL into its traces endpoint, as the OTLP exporter
// does with OTEL_EXPORTER_OTLP_ENDPOINT.
func tracesURL(base string) (string, error) {
	u, err := url.Parse(base)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return "", errors.New("tracing.endpoint: not an http:// or https:// URL")
	}
	u.Path = strings.TrimSuffix(u.Path, "/") + "/v1/traces"
	return u.String(), nil
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Shutdown exports what is queued, within ctx, and stops the exporter.
func (t *Tracer) Shutdown(ctx context.Context) error {
	return t.provider.Shutdown(ctx)
}

// Flush exports what is queued now, within ctx: tests use it not to wait for a batch.
func (t *Tracer) Flush(ctx context.Context) error {
	return t.provider.ForceFlush(ctx)
}

// Counts are a tracer's span counts since start.
type Counts struct {
	// Exported spans reached the collector.
	Exported uint64
	// QueueFull spans were dropped because the queue was full (the collector is slow or down).
	QueueFull uint64
	// ExportFailed spans were in a batch the collector did not take.
	ExportFailed uint64
}

// Counts returns how many spans were exported and dropped.
func (t *Tracer) Counts() Counts {
	return Counts{Exported: t.exporter.exported.Load(), QueueFull: t.queue.dropped.Load(), ExportFailed: t.exporter.failed.Load()}
}

// propagator reads W3C traceparent and tracestate (Inject writes them itself).
var propagator = propagation.TraceContext{}
