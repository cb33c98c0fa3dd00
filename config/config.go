package config

import "time"

// Config is the whole configuration file. A Config is a plain value: it is decoded fresh on
// every load and never mutated by the running router.
type Config struct {
	Server    Server              `mapstructure:"server"`
	Tencent   Tencent             `mapstructure:"tencent"`
	Defaults  Policy              `mapstructure:"defaults"`
	Upstreams map[string]Upstream `mapstructure:"upstreams"`
	Routes    []Route             `mapstructure:"routes"`
	Delivery  Delivery            `mapstructure:"delivery"`
	Log       Log                 `mapstructure:"log"`
}

// Server configures the listeners and the limits that protect them from slow or hostile clients.
type Server struct {
	Listen      string `mapstructure:"listen"`       // callbacks; default ":8080"
	AdminListen string `mapstructure:"admin_listen"` // admin surface; default loopback only
	Path        string `mapstructure:"path"`         // the path Tencent posts to; default "/"
	// Engine is the HTTP server implementation: "fasthttp" (the default, about a third more
	// throughput) or "net/http" (notices a client that hangs up mid-callback, so its upstream
	// call is not held against a breaker).
	Engine string `mapstructure:"engine"`
	// MaxBodyBytes bounds a callback body; larger ones get 413 before any upstream sees them.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxHeaderBytes bounds the request line and headers (net/http's default is 1 MiB).
	MaxHeaderBytes int `mapstructure:"max_header_bytes"`
	// ReadHeaderTimeout and ReadTimeout cut slow-loris clients; WriteTimeout must exceed
	// tencent.window so a fallback is never cut; IdleTimeout closes idle keep-alive connections.
	ReadHeaderTimeout time.Duration `mapstructure:"read_header_timeout"`
	ReadTimeout       time.Duration `mapstructure:"read_timeout"`
	WriteTimeout      time.Duration `mapstructure:"write_timeout"`
	IdleTimeout       time.Duration `mapstructure:"idle_timeout"`
	// ShutdownTimeout bounds how long SIGTERM waits for in-flight callbacks and queued deliveries.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
	// DrainGrace is how long shutdown waits, after it stops accepting, for clients to send
	// on (and so give back) the keep-alive connections they hold before the idle ones are
	// closed: closing an idle connection races a client about to send a callback on it.
	// Default 1s; at most half of shutdown_timeout is used.
	DrainGrace time.Duration `mapstructure:"drain_grace"`
	TLS        TLS           `mapstructure:"tls"`
	// MaxConns bounds the open callback connections, idle keep-alive ones included; a
	// connection past it is answered 503 and closed. Default 10000: each holds a few KiB of
	// buffers, so the bound is also a memory bound against a flood of idle connections.
	MaxConns int `mapstructure:"max_conns"`
	// MaxConnsPerIP bounds the open connections of one peer address; past it, 429 and close.
	// 0 (the default) means no per-address bound: Tencent's egress and a load balancer in
	// front both send many connections from few addresses.
	MaxConnsPerIP int `mapstructure:"max_conns_per_ip"`
	// MaxJSONDepth bounds how deeply a callback body's arrays and objects nest; a deeper body
	// is refused with 400 before it reaches an upstream's parser. Tencent's nest 4 or 5 deep.
	MaxJSONDepth int `mapstructure:"max_json_depth"`
	// TrustedProxies lists the addresses (IPs or CIDRs) of proxies in front of the router
	// whose X-Forwarded-For is believed when checking tencent.allowed_cidrs. Empty: the peer's
	// address is the source, whatever the header says.
	TrustedProxies []string `mapstructure:"trusted_proxies"`
	// AdminToken, when set, is the bearer token every admin path but /healthz and /readyz
	// requires. Set it from CALLBACK_ROUTER_SERVER_ADMIN_TOKEN rather than in the file.
	AdminToken string `mapstructure:"admin_token"`
}

// TLS turns on https when both files are set (edge mode).
type TLS struct {
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
}

// Tencent describes the sender: which apps are served and how their callbacks are signed.
type Tencent struct {
	// SdkAppIDs lists the apps served; empty serves any (and is warned about at start).
	SdkAppIDs []uint64 `mapstructure:"sdk_app_ids"`
	// AuthToken is the console's callback token; when set, Sign and RequestTime are required.
	AuthToken string `mapstructure:"auth_token"`
	// AuthTokens are further accepted tokens: Live and Chat have separate consoles and may be
	// given different tokens, and a rotation needs the old and new token at once.
	AuthTokens   []string      `mapstructure:"auth_tokens"`
	MaxClockSkew time.Duration `mapstructure:"max_clock_skew"`
	// Window is how long Tencent waits for an answer; every deadline must be shorter.
	Window time.Duration `mapstructure:"window"`
	// AllowedCIDRs, when not empty, are the only source addresses served (Tencent publishes
	// its callback egress list); any other source gets 403. The source is the peer, or the
	// X-Forwarded-For address a server.trusted_proxies peer reports.
	AllowedCIDRs []string `mapstructure:"allowed_cidrs"`
}

// Tokens returns every configured callback token.
func (t Tencent) Tokens() []string {
	var out []string
	if t.AuthToken != "" {
		out = append(out, t.AuthToken)
	}
	for _, tok := range t.AuthTokens {
		if tok != "" {
			out = append(out, tok)
		}
	}
	return out
}

// Policy is what a route inherits from defaults and may override. Pointer fields tell "not
// set" apart from a zero value, so a route can set retries: 0 over a default of 1.
type Policy struct {
	Deadline       *time.Duration `mapstructure:"deadline"`
	Retries        *int           `mapstructure:"retries"`
	AttemptTimeout *time.Duration `mapstructure:"attempt_timeout"`
	// RetryOn lists the upstream statuses retried; connection errors are always retried.
	RetryOn     []int     `mapstructure:"retry_on"`
	Fallback    *Fallback `mapstructure:"fallback"`
	MaxInFlight *int      `mapstructure:"max_in_flight"`
	// Breaker sits in defaults for every upstream instance; an upstream may set its own.
	Breaker *Breaker `mapstructure:"breaker"`
}

// Fallback is the verdict the router gives Tencent itself when the upstream cannot.
type Fallback struct {
	Action    string `mapstructure:"action"` // allow | deny
	ErrorCode *int64 `mapstructure:"error_code"`
	ErrorInfo string `mapstructure:"error_info"`
}

// Breaker configures the circuit breaker of each upstream instance.
type Breaker struct {
	ConsecutiveFailures uint32        `mapstructure:"consecutive_failures"`
	OpenFor             time.Duration `mapstructure:"open_for"`
	HalfOpenRequests    uint32        `mapstructure:"half_open_requests"`
}

// Upstream is a named backend with one or more instances.
type Upstream struct {
	URL  string   `mapstructure:"url"`
	URLs []string `mapstructure:"urls"`
	// Breaker overrides defaults.breaker for this upstream's instances.
	Breaker *Breaker `mapstructure:"breaker"`
	// MaxConns bounds the connections to each instance, busy or idle. A hung instance holds
	// one per callback in flight, so it should not be below the routes' max_in_flight.
	MaxConns int `mapstructure:"max_conns"`
	// MaxResponseBytes bounds an answer; a larger one is a failure, not forwarded.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`
}

// Instances returns the upstream's instance URLs, url first.
func (u Upstream) Instances() []string {
	var out []string
	if u.URL != "" {
		out = append(out, u.URL)
	}
	return append(out, u.URLs...)
}

// Route sends the commands it matches to an upstream under a policy.
type Route struct {
	Name     string   `mapstructure:"name"`
	Commands []string `mapstructure:"commands"`
	Upstream string   `mapstructure:"upstream"`
	// Upstreams lists every upstream an async route delivers to (fan-out).
	Upstreams []string `mapstructure:"upstreams"`
	Async     bool     `mapstructure:"async"`
	Policy    `mapstructure:",squash"`
}

// UpstreamNames returns every upstream the route names.
func (r Route) UpstreamNames() []string {
	var out []string
	if r.Upstream != "" {
		out = append(out, r.Upstream)
	}
	return append(out, r.Upstreams...)
}

// Delivery configures the background delivery of async routes.
type Delivery struct {
	// QueueSize bounds the callbacks waiting for delivery; past it an async route answers
	// with its fallback (reason overloaded) instead of growing memory without bound.
	QueueSize int `mapstructure:"queue_size"`
	// Workers deliver queued callbacks concurrently.
	Workers int `mapstructure:"workers"`
	// MaxAge is how long a callback is retried before it is given up.
	MaxAge time.Duration `mapstructure:"max_age"`
	// AttemptDeadline bounds one delivery (with its own retries) to an upstream.
	AttemptDeadline time.Duration `mapstructure:"attempt_deadline"`
}

// Log configures the process log.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // json | console
}
