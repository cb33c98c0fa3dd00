package cli

import (
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/tracing"
)

// storeOpenTimeout bounds the wait for the store's file lock: a second router (or a queue
// command) on the same delivery.dir fails at once with a clear message instead of hanging.
const storeOpenTimeout = 2 * time.Second

// openQueue opens the delivery backend the config names.
func openQueue(cfg *config.Config, log zerolog.Logger, tracer *tracing.Tracer) (delivery.Backend, error) {
	d := cfg.Delivery
	opts := delivery.Options{
		Workers: d.Workers, MaxAge: d.MaxAge, AttemptDeadline: d.AttemptDeadline,
		Backoff: delivery.Backoff{Initial: d.Backoff.Initial, Max: d.Backoff.Max},
		Logger:  log.With().Str("component", "delivery").Logger(), Tracer: tracer,
	}
	switch d.Backend {
	case config.BackendBolt:
		q, err := delivery.OpenBolt(boltOptions(cfg), opts)
		if err != nil {
			return nil, fmt.Errorf("delivery.dir: %w", err)
		}
		return q, nil
	case config.BackendJetStream:
		for i, r := range cfg.Routes {
			if r.Ordered {
				log.Warn().Str("key", fmt.Sprintf("routes[%d].ordered", i)).
					Msg("delivery.backend jetstream does not keep a room's order: instances share one consumer")
			}
		}
		j := d.JetStream
		q, err := delivery.OpenJetStream(delivery.JetStreamOptions{URL: j.URL, Stream: j.Stream, Subject: j.Subject,
			DeadSubject: j.DeadSubject, Consumer: j.Consumer, Replicas: j.Replicas, Timeout: j.Timeout,
			MaxItems: d.MaxItems, MaxBytes: d.MaxBytes, Delivery: opts})
		if err != nil {
			return nil, err
		}
		return q, nil
	}
	return nil, fmt.Errorf("delivery.backend: %q is not supported", d.Backend)
}

func boltOptions(cfg *config.Config) delivery.BoltOptions {
	d := cfg.Delivery
	return delivery.BoltOptions{Dir: d.Dir, MaxItems: d.MaxItems, MaxBytes: d.MaxBytes, OpenTimeout: storeOpenTimeout}
}
