package config

// Defaults for every key that has one. They are registered with viper so that environment
// variables reach keys absent from the file (viper's AutomaticEnv only sees known keys), and
// so that a minimal file (one upstream, one route) is a complete config.
var defaultValues = map[string]any{
	"server.listen":                  ":8080",
	"server.admin_listen":            "127.0.0.1:9090",
	"server.path":                    "/",
	"server.trtc_path":               "",
	"server.engine":                  EngineFastHTTP,
	"server.max_body_bytes":          1 << 20,
	"server.max_header_bytes":        4 << 10, // Tencent sends a few hundred bytes; each connection holds a buffer this size
	"server.read_header_timeout":     "5s",
	"server.read_timeout":            "10s",
	"server.write_timeout":           "10s",
	"server.idle_timeout":            "120s",
	"server.shutdown_timeout":        "15s",
	"server.drain_grace":             "1s",
	"server.tls.cert_file":           "",
	"server.tls.key_file":            "",
	"server.tls.acme.domains":        []string{},
	"server.tls.acme.email":          "",
	"server.tls.acme.ca":             LetsEncryptDirectory,
	"server.tls.acme.dir":            "",
	"server.tls.acme.renew_interval": "10m",
	"server.max_conns":               10000,
	"server.max_conns_per_ip":        0,
	"server.max_json_depth":          64,
	"server.trusted_proxies":         []string{},
	"server.admin_token":             "",
	"server.admin_hosts":             []string{},

	"tencent.sdk_app_ids":    []uint64{},
	"tencent.auth_token":     "",
	"tencent.auth_tokens":    []string{},
	"tencent.trtc_key":       "",
	"tencent.max_clock_skew": "60s",
	"tencent.window":         "2s",
	"tencent.trtc_window":    "5s",
	"tencent.allowed_cidrs":  []string{},

	"defaults.deadline":                     "1800ms",
	"defaults.retries":                      1,
	"defaults.attempt_timeout":              "0s",
	"defaults.retry_on":                     []int{502, 503, 504},
	"defaults.max_in_flight":                4096,
	"defaults.fallback.action":              "allow",
	"defaults.fallback.error_info":          "",
	"defaults.breaker.consecutive_failures": 5,
	"defaults.breaker.open_for":             "10s",
	"defaults.breaker.half_open_requests":   1,

	"delivery.backend":                BackendBolt,
	"delivery.dir":                    "./data",
	"delivery.max_items":              100000,
	"delivery.max_bytes":              256 << 20,
	"delivery.workers":                16,
	"delivery.max_age":                "24h",
	"delivery.attempt_deadline":       "5s",
	"delivery.backoff.initial":        "200ms",
	"delivery.backoff.max":            "1m",
	"delivery.jetstream.url":          "nats://127.0.0.1:4222",
	"delivery.jetstream.stream":       "CALLBACK_ROUTER",
	"delivery.jetstream.subject":      "callback-router.deliveries",
	"delivery.jetstream.dead_subject": "callback-router.dead",
	"delivery.jetstream.consumer":     "callback-router",
	"delivery.jetstream.replicas":     1,
	"delivery.jetstream.timeout":      "5s",

	"tracing.endpoint":     "",
	"tracing.sample_ratio": 0.05,
	"tracing.service_name": "callback-router",

	"log.level":  "info",
	"log.format": "json",
}

// Server engines.
const (
	EngineFastHTTP = "fasthttp"
	EngineNetHTTP  = "net/http"
)

// Defaults for upstream keys, applied per upstream after decoding (viper cannot default the
// fields of map entries whose names it does not know in advance).
const (
	DefaultMaxConns         = 8192
	DefaultMaxResponseBytes = 1 << 20
	// MaxPipeline bounds upstreams.*.pipeline: pipelining pays with a few connections; many
	// would only add head-of-line blocking.
	MaxPipeline = 64
)
