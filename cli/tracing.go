package cli

import (
	"context"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/tracing"
)

// traceShutdown bounds how long an exit waits to export the last spans: a collector that is
// down must not hold the process.
const traceShutdown = 2 * time.Second

// startTracing builds the tracer the config asks for: nil, and nothing to stop, when tracing
// is off. Export errors are logged at most once a minute.
func startTracing(cfg config.Tracing, log zerolog.Logger) (*tracing.Tracer, func(), error) {
	tr, err := tracing.New(tracing.Settings{
		Endpoint: cfg.Endpoint, SampleRatio: cfg.SampleRatio, ServiceName: cfg.ServiceName,
		ServiceVersion: versionLine(),
		OnError: func(err error) {
			log.Warn().Err(err).Msg("trace export failed: spans are dropped until the collector answers (logged once a minute)")
		},
	})
	if err != nil || tr == nil {
		return nil, func() {}, err
	}
	log.Info().Float64("sample_ratio", cfg.SampleRatio).Str("service_name", cfg.ServiceName).
		Bool("endpoint_from_environment", cfg.Endpoint == "").Msg("tracing on: exporting spans over OTLP/HTTP")
	return tr, func() {
		ctx, cancel := context.WithTimeout(context.Background(), traceShutdown)
		defer cancel()
		if err := tr.Shutdown(ctx); err != nil {
			log.Warn().Err(err).Msg("last spans not exported at exit")
		}
	}, nil
}
