package config

import "time"

// Default returns the config every file starts from: each key's default, in one place.
// (What a default means is documented on its field.) newViper registers every key of it
// with viper, so that a minimal file (one upstream, one route) is a
// complete config and an environment variable reaches a key the file leaves out: viper's
// AutomaticEnv only sees the keys it knows.
//
// Upstreams and routes have no entries by default. What their keys default to is stated
// beside it: DefaultUpstream for an upstream's own keys, Breaker.Inherit for its breaker,
// Policy.Inherit for a route's policy.
func Default() *Config {
	return &Config{
		Server: Server{
			Listen:            ":8080",
			AdminListen:       "127.0.0.1:9090",
			Path:              "/",
			Engine:            EngineFastHTTP,
			MaxBodyBytes:      1 << 20,
			MaxHeaderBytes:    4 << 10, // Tencent sends a few hundred bytes; each connection holds a buffer this size
			ReadHeaderTimeout: 5 * time.Second,
			ReadTimeout:       10 * time.Second,
			WriteTimeout:      10 * time.Second,
			IdleTimeout:       120 * time.Second,
			ShutdownTimeout:   15 * time.Second,
			DrainGrace:        time.Second,
			TLS: TLS{ACME: ACME{
				CA:            LetsEncryptDirectory,
				RenewInterval: 10 * time.Minute,
			}},
			MaxConns:     10000,
			MaxJSONDepth: 64,
		},
		Tencent: Tencent{
			MaxClockSkew: 60 * time.Second,
			Window:       2 * time.Second,
			TRTCWindow:   5 * time.Second,
		},
		Defaults: Policy{
			Deadline:       new(1800 * time.Millisecond),
			Retries:        new(1),
			AttemptTimeout: new(time.Duration(0)),
			RetryOn:        []int{502, 503, 504},
			Fallback:       &Fallback{Action: "allow"},
			MaxInFlight:    new(4096),
			Breaker:        &Breaker{ConsecutiveFailures: 5, OpenFor: 10 * time.Second, HalfOpenRequests: 1},
		},
		Delivery: Delivery{
			Backend:         BackendBolt,
			Dir:             "./data",
			MaxItems:        100000,
			MaxBytes:        256 << 20,
			Workers:         16,
			MaxAge:          24 * time.Hour,
			AttemptDeadline: 5 * time.Second,
			Backoff:         Backoff{Initial: 200 * time.Millisecond, Max: time.Minute},
			JetStream: JetStream{
				URL:         "nats://127.0.0.1:4222",
				Stream:      "CALLBACK_ROUTER",
				Subject:     "callback-router.deliveries",
				DeadSubject: "callback-router.dead",
				Consumer:    "callback-router",
				Replicas:    1,
				Timeout:     5 * time.Second,
			},
		},
		Tracing: Tracing{SampleRatio: 0.05, ServiceName: "callback-router"},
		Log:     Log{Level: "info", Format: "json"},
	}
}

// DefaultUpstream holds what an upstream's own keys default to; each key an upstream
// leaves at zero takes its value here when the file is loaded. (viper cannot default the
// fields of map entries whose names it does not know in advance.)
func DefaultUpstream() Upstream {
	return Upstream{MaxConns: 8192, MaxResponseBytes: 1 << 20}
}

// MaxPipeline bounds upstreams.*.pipeline: pipelining pays with a few connections; many
// would only add head-of-line blocking.
const MaxPipeline = 64

// Server engines.
const (
	EngineFastHTTP = "fasthttp"
	EngineNetHTTP  = "net/http"
)

// Inherit returns the policy a route runs under: each key p leaves unset (nil) takes
// def's, so a route can set retries: 0 over a default of 1. def is the config's defaults;
// the answer to a command no route serves runs under the defaults alone. breaker is not
// inherited: it belongs to upstream instances (Breaker.Inherit), never to a route.
func (p Policy) Inherit(def Policy) Policy {
	out := Policy{
		Deadline:       orDefault(p.Deadline, def.Deadline),
		Retries:        orDefault(p.Retries, def.Retries),
		AttemptTimeout: orDefault(p.AttemptTimeout, def.AttemptTimeout),
		RetryOn:        p.RetryOn,
		Fallback:       orDefault(p.Fallback, def.Fallback),
		MaxInFlight:    orDefault(p.MaxInFlight, def.MaxInFlight),
	}
	if out.RetryOn == nil {
		out.RetryOn = def.RetryOn
	}
	return out
}

// Inherit returns the breaker of an upstream's instances: each key b (the upstream's
// own breaker, zero when it sets none) leaves at zero takes def's (defaults.breaker).
func (b Breaker) Inherit(def Breaker) Breaker {
	if b.ConsecutiveFailures == 0 {
		b.ConsecutiveFailures = def.ConsecutiveFailures
	}
	if b.OpenFor == 0 {
		b.OpenFor = def.OpenFor
	}
	if b.HalfOpenRequests == 0 {
		b.HalfOpenRequests = def.HalfOpenRequests
	}
	return b
}

// orDefault is v unless v is unset (nil), then def.
func orDefault[T any](v, def *T) *T {
	if v != nil {
		return v
	}
	return def
}

// defaultSettings lists Default's keys and values for viper.SetDefault.
func defaultSettings() map[string]any {
	out := map[string]any{}
	for _, s := range Settings(Default()) {
		out[s.Key] = s.Value
	}
	return out
}
