package config

import (
	"strings"
	"time"

	"github.com/callback-router/callback-router/tencent"
)

// Config is the whole configuration file. A Config is a plain value: it is decoded fresh on
// every load and never mutated by the running router. A key the file and the environment
// leave out has its value from Default.
type Config struct {
	Server    Server              `mapstructure:"server"`
	Tencent   Tencent             `mapstructure:"tencent"`
	Defaults  Policy              `mapstructure:"defaults"`
	Upstreams map[string]Upstream `mapstructure:"upstreams"`
	Routes    []Route             `mapstructure:"routes"`
	Delivery  Delivery            `mapstructure:"delivery"`
	Tracing   Tracing             `mapstructure:"tracing"`
	Log       Log                 `mapstructure:"log"`
}

// Server configures the listeners and the limits that protect them from slow or hostile clients.
type Server struct {
	Listen      string `mapstructure:"listen"`       // callbacks; default ":8080"
	AdminListen string `mapstructure:"admin_listen"` // admin surface; default loopback only
	Path        string `mapstructure:"path"`         // the path Tencent posts to; default "/"
	// TRTCPath, when set, is a second path that takes TRTC's event callbacks (room, media,
	// cloud recording) only, for a TRTC console URL of its own. They are recognised on Path
	// too, by their body.
	TRTCPath string `mapstructure:"trtc_path"`
	// Engine is the HTTP server implementation: "fasthttp" (the default, about a third more
	// throughput) or "net/http" (notices a client that hangs up mid-callback, so its upstream
	// call is not held against a breaker).
	Engine string `mapstructure:"engine"`
	// MaxBodyBytes bounds a callback body; larger ones get 413 before any upstream sees them.
	MaxBodyBytes int64 `mapstructure:"max_body_bytes"`
	// MaxHeaderBytes bounds the request line and headers (net/http's default is 1 MiB).
	MaxHeaderBytes int `mapstructure:"max_header_bytes"`
	// ReadHeaderTimeout and ReadTimeout cut slow-loris clients: the headers must arrive within
	// ReadHeaderTimeout and the whole request within ReadTimeout, so the body gets
	// ReadTimeout − ReadHeaderTimeout after the headers (exactly that on fasthttp; on net/http
	// also what the headers left). WriteTimeout must exceed tencent.window so a fallback is
	// never cut; IdleTimeout closes idle keep-alive connections.
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
	// AdminHosts lists the host names the admin listener answers to when no admin_token is
	// set, besides IP addresses, localhost and admin_listen's own name. A request naming
	// another Host gets 403: a web page whose name an attacker rebinds to 127.0.0.1 (DNS
	// rebinding) must not read the queue or drop from it through the operator's browser.
	AdminHosts []string `mapstructure:"admin_hosts"`
}

// TLS turns on https (edge mode): with a certificate from files (both set), or with one
// the router obtains and renews itself through ACME.
type TLS struct {
	CertFile string `mapstructure:"cert_file"`
	KeyFile  string `mapstructure:"key_file"`
	ACME     ACME   `mapstructure:"acme"`
}

// Enabled tells whether the callback listener serves https.
func (t TLS) Enabled() bool { return t.CertFile != "" || t.ACME.Enabled() }

// Tencent describes the sender: which apps are served and how their callbacks are signed.
// Apps is the several-apps form; SdkAppIDs with AuthToken and AuthTokens is the single-app
// form, whose tokens sign the callbacks of every listed SdkAppid. A config uses one form.
type Tencent struct {
	// Apps lists the apps served, each with its own tokens and TRTC key.
	Apps []App `mapstructure:"apps"`
	// SdkAppIDs lists the apps served; empty serves any (and is warned about at start).
	SdkAppIDs []uint64 `mapstructure:"sdk_app_ids"`
	// AuthToken is the console's callback token; when set, Sign and RequestTime are required.
	AuthToken string `mapstructure:"auth_token"`
	// AuthTokens are further accepted tokens: Live and Chat have separate consoles and may be
	// given different tokens, and a rotation needs the old and new token at once.
	AuthTokens []string `mapstructure:"auth_tokens"`
	// TRTCKey is the TRTC console's callback key of the single-app form: it verifies the
	// TRTC room, media and recording events of every listed SdkAppid.
	TRTCKey      string        `mapstructure:"trtc_key"`
	MaxClockSkew time.Duration `mapstructure:"max_clock_skew"`
	// Window is how long Tencent waits for an answer; every deadline must be shorter.
	Window time.Duration `mapstructure:"window"`
	// TRTCWindow is how long TRTC waits for the answer to an event callback (5 s): it bounds
	// the deadlines of the routes that serve only TRTC events, as Window bounds the others.
	TRTCWindow time.Duration `mapstructure:"trtc_window"`
	// AllowedCIDRs, when not empty, are the only source addresses served (Tencent publishes
	// its callback egress list); any other source gets 403. The source is the peer, or the
	// X-Forwarded-For address a server.trusted_proxies peer reports.
	AllowedCIDRs []string `mapstructure:"allowed_cidrs"`
}

// Tokens returns every callback token of the single-app form (auth_token, then auth_tokens).
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

// Policy is what a route inherits from defaults and may override (Policy.Inherit). Pointer
// fields tell "not set" apart from a zero value, so a route can set retries: 0 over a
// default of 1.
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
	// Breaker overrides defaults.breaker for this upstream's instances, key by key
	// (Breaker.Inherit).
	Breaker *Breaker `mapstructure:"breaker"`
	// MaxConns bounds the connections to each instance, busy or idle. A hung instance holds
	// one per callback in flight, so it should not be below the routes' max_in_flight.
	// 0 (unset) takes DefaultUpstream's, as does MaxResponseBytes.
	MaxConns int `mapstructure:"max_conns"`
	// MaxResponseBytes bounds an answer; a larger one is a failure, not forwarded.
	MaxResponseBytes int64 `mapstructure:"max_response_bytes"`
	// Pipeline, when above 0, sends callbacks to each instance pipelined (HTTP/1.1) over
	// that many connections instead of one callback per connection at a time: fewer
	// system calls per callback, but an answer waits for those before it on its connection
	// (head-of-line blocking), and an upstream that serves a connection's requests one
	// after another (most do) works on at most that many callbacks at once.
	Pipeline int `mapstructure:"pipeline"`
}

// UpstreamKey is an upstream's name as the upstreams map holds it. viper folds the map's
// keys to lower case, so upstream names are case-insensitive: every name a route, a shadow
// or a stored delivery gives is looked up, and compared, through UpstreamKey.
func UpstreamKey(name string) string { return strings.ToLower(name) }

// Upstream finds an upstream by name (see UpstreamKey).
func (c *Config) Upstream(name string) (Upstream, bool) {
	u, ok := c.Upstreams[UpstreamKey(name)]
	return u, ok
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
	// Apps limits the route to the callbacks of these apps (names from tencent.apps); empty
	// admits every app. At equal specificity, a route naming the app beats one that does not.
	Apps     []string `mapstructure:"apps"`
	Upstream string   `mapstructure:"upstream"`
	// Upstreams lists every upstream an async route delivers to (fan-out).
	Upstreams []string `mapstructure:"upstreams"`
	Async     bool     `mapstructure:"async"`
	// Ordered delivers the callbacks of one room (RoomId, else GroupId) to each upstream one
	// at a time, in arrival order; a failing callback holds back the room's later ones.
	Ordered bool `mapstructure:"ordered"`
	// Journal delivers every fallback verdict of this (synchronous) route to its upstream
	// later, with the original callback, so the app can reconcile what it did not decide.
	Journal bool `mapstructure:"journal"`
	// Shadow, when set, mirrors the route's callbacks to a candidate upstream whose answers
	// are compared with Tencent's, never sent to Tencent.
	Shadow *Shadow `mapstructure:"shadow"`
	Policy `mapstructure:",squash"`
}

// TRTCOnly reports whether every command of the route is a TRTC event name or pattern
// ("TRTC.1.103", "TRTC.3.*"): such a route never sees a Chat or Live callback, so its
// deadline is bounded by tencent.trtc_window and a deny verdict would mean nothing.
func (r Route) TRTCOnly() bool {
	if len(r.Commands) == 0 {
		return false
	}
	for _, c := range r.Commands {
		if !tencent.IsTRTCCommand(c) {
			return false
		}
	}
	return true
}

// UpstreamNames returns every upstream the route names.
func (r Route) UpstreamNames() []string {
	var out []string
	if r.Upstream != "" {
		out = append(out, r.Upstream)
	}
	return append(out, r.Upstreams...)
}

// Delivery configures the durable background delivery of async routes and of journaled
// fallback verdicts. Every key needs a restart: the store is opened once at start.
type Delivery struct {
	// Backend is where callbacks wait for delivery: "bbolt" (the default, one file under Dir,
	// one router instance) or "jetstream" (a NATS JetStream stream shared by several
	// instances behind one callback URL).
	Backend string `mapstructure:"backend"`
	// Dir holds the bbolt file (deliveries.db); it is created if missing. Default ./data.
	Dir string `mapstructure:"dir"`
	// MaxItems and MaxBytes bound the callbacks waiting for delivery (dead letters aside);
	// past either an async route answers with its fallback (reason overloaded) rather than
	// grow the store without bound.
	MaxItems int   `mapstructure:"max_items"`
	MaxBytes int64 `mapstructure:"max_bytes"`
	// Workers deliver queued callbacks concurrently.
	Workers int `mapstructure:"workers"`
	// MaxAge is how long a callback is retried, counted from its arrival, before it moves to
	// the dead letters. Default 24h.
	MaxAge time.Duration `mapstructure:"max_age"`
	// AttemptDeadline bounds one delivery (with one quick retry) to an upstream.
	AttemptDeadline time.Duration `mapstructure:"attempt_deadline"`
	// Backoff spaces the redeliveries of one callback: jittered, doubling from Initial up to Max.
	Backoff Backoff `mapstructure:"backoff"`
	// JetStream configures the shared backend (backend: jetstream).
	JetStream JetStream `mapstructure:"jetstream"`
}

// Backoff is a jittered exponential backoff: the wait before redelivery n lies in
// [w/2, w] with w = min(Initial<<n, Max).
type Backoff struct {
	Initial time.Duration `mapstructure:"initial"`
	Max     time.Duration `mapstructure:"max"`
}

// JetStream names the NATS server and stream several router instances share.
type JetStream struct {
	URL string `mapstructure:"url"` // nats://host:4222; several separated by commas
	// Stream is created if missing (work-queue retention, file storage); Subject is the
	// subject deliveries are published on, DeadSubject the one dead letters go to.
	Stream      string `mapstructure:"stream"`
	Subject     string `mapstructure:"subject"`
	DeadSubject string `mapstructure:"dead_subject"`
	// Consumer is the durable consumer every instance pulls from, so each delivery goes to
	// one instance at a time.
	Consumer string `mapstructure:"consumer"`
	Replicas int    `mapstructure:"replicas"`
	// Timeout bounds connecting and each publish acknowledgement.
	Timeout time.Duration `mapstructure:"timeout"`
}

// Delivery backends.
const (
	BackendBolt      = "bbolt"
	BackendJetStream = "jetstream"
)

// Log configures the process log.
type Log struct {
	Level  string `mapstructure:"level"`  // debug | info | warn | error
	Format string `mapstructure:"format"` // json | console
}
