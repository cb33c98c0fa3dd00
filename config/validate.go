package config

import (
	"errors"
	"fmt"
	"math"
	"net"
	"net/netip"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/callback-router/callback-router/redact"
	"github.com/callback-router/callback-router/tencent"
)

// Limits that keep a config within what the router can honour.
const (
	// MaxRetries caps retries: more attempts than this cannot fit Tencent's 2 s window anyway.
	MaxRetries = 10
	// MinDeadline is the shortest useful deadline: below it no upstream answers in time.
	MinDeadline = 10 * time.Millisecond
)

// Problem is one thing wrong with a config: the key it concerns and what to do about it.
// Load and Validate join every Problem they find into one error.
type Problem struct {
	Key     string
	Message string
}

func (p Problem) Error() string { return p.Key + ": " + p.Message }

// problems collects validation errors, each naming the key it concerns. A message that
// quotes a URL shows it masked (redact.Text): a refused config is printed by validate,
// logged by a reload and shown on the status page, and must not show the credentials it
// refused. Callers quote URLs through redact.URL, which also masks those too broken to find
// in text; this is the net under them.
type problems []error

func (p *problems) add(key, format string, args ...any) {
	*p = append(*p, Problem{Key: key, Message: redact.Text(fmt.Sprintf(format, args...))})
}

// Validate reports every problem in c at once, each naming its key and how to fix it.
func (c *Config) Validate() error {
	var p problems
	c.validate(&p)
	return errors.Join(p...)
}

func (c *Config) validate(p *problems) {
	c.validateServer(p)
	c.validateTencent(p)
	c.validatePolicy(p, "defaults", c.Defaults, nil)
	if c.Defaults.Breaker != nil {
		validateBreaker(p, "defaults.breaker", *c.Defaults.Breaker, true)
	}
	c.validateUpstreams(p)
	c.validateRoutes(p)
	c.validateDelivery(p)
	c.validateTRTC(p)
	c.validateTracing(p)
	if !slices.Contains([]string{"debug", "info", "warn", "error"}, c.Log.Level) {
		p.add("log.level", "%q is not one of debug, info, warn, error", c.Log.Level)
	}
	if !slices.Contains([]string{"json", "console"}, c.Log.Format) {
		p.add("log.format", "%q is not one of json, console", c.Log.Format)
	}
}

func (c *Config) validateServer(p *problems) {
	s := c.Server
	checkListen(p, "server.listen", s.Listen, false)
	checkListen(p, "server.admin_listen", s.AdminListen, true)
	if s.Engine != EngineFastHTTP && s.Engine != EngineNetHTTP {
		p.add("server.engine", "%q is not %s or %s", s.Engine, EngineFastHTTP, EngineNetHTTP)
	}
	if !strings.HasPrefix(s.Path, "/") {
		p.add("server.path", "%q must start with /", s.Path)
	}
	if s.MaxBodyBytes <= 0 {
		p.add("server.max_body_bytes", "must be positive (Tencent's bodies are a few KiB; the default is 1048576)")
	}
	if s.MaxHeaderBytes < 1024 {
		p.add("server.max_header_bytes", "%d is too small to hold Tencent's request line; use at least 1024", s.MaxHeaderBytes)
	}
	for _, t := range []struct {
		key string
		d   time.Duration
	}{
		{"server.read_header_timeout", s.ReadHeaderTimeout},
		{"server.read_timeout", s.ReadTimeout},
		{"server.idle_timeout", s.IdleTimeout},
		{"server.shutdown_timeout", s.ShutdownTimeout},
	} {
		if t.d <= 0 {
			p.add(t.key, "must be positive")
		}
	}
	if s.ReadHeaderTimeout > 0 && s.ReadTimeout <= s.ReadHeaderTimeout {
		p.add("server.read_timeout", "%s must be longer than server.read_header_timeout (%s): the body gets the difference after the headers", s.ReadTimeout, s.ReadHeaderTimeout)
	}
	if s.WriteTimeout <= c.Tencent.Window {
		p.add("server.write_timeout", "%s must be longer than tencent.window (%s), or a late fallback would be cut", s.WriteTimeout, c.Tencent.Window)
	} else if s.WriteTimeout <= c.Tencent.TRTCWindow && slices.ContainsFunc(c.Routes, Route.TRTCOnly) {
		p.add("server.write_timeout", "%s must be longer than tencent.trtc_window (%s), which bounds the routes serving only TRTC events, or a late answer to one would be cut", s.WriteTimeout, c.Tencent.TRTCWindow)
	}
	if (s.TLS.CertFile == "") != (s.TLS.KeyFile == "") {
		p.add("server.tls", "set both cert_file and key_file to serve https, or neither")
	}
	c.validateACME(p)
	if s.DrainGrace < 0 {
		p.add("server.drain_grace", "must not be negative (0 closes idle connections at once on shutdown)")
	}
	if s.MaxConns <= 0 {
		p.add("server.max_conns", "must be positive (the default is 10000)")
	}
	if s.MaxConnsPerIP < 0 {
		p.add("server.max_conns_per_ip", "must not be negative (0 means no per-address bound)")
	}
	if s.MaxJSONDepth < 8 {
		p.add("server.max_json_depth", "%d is too small for Tencent's bodies, which nest 4 or 5 deep; use at least 8 (the default is 64)", s.MaxJSONDepth)
	}
	checkCIDRs(p, "server.trusted_proxies", s.TrustedProxies)
	for i, h := range s.AdminHosts {
		if !hostName.MatchString(h) {
			p.add(fmt.Sprintf("server.admin_hosts[%d]", i), "%q is not a host name: write the name alone, as in admin.example.internal (no scheme, port, path or wildcard)", h)
		}
	}
}

// hostName matches a DNS name as a Host header carries it, without the port.
var hostName = regexp.MustCompile(`^(?i)[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?(\.[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?)*\.?$`)

// checkCIDRs accepts addresses and CIDR prefixes, as ParsePrefix reads them (and the
// router compiles them).
func checkCIDRs(p *problems, key string, list []string) {
	for i, s := range list {
		if _, err := ParsePrefix(s); err != nil {
			p.add(fmt.Sprintf("%s[%d]", key, i), "%v", err)
		}
	}
}

// ParsePrefix reads an IP address or a CIDR prefix; an address is the prefix of its own bits.
// IPv4-mapped IPv6 addresses are unmapped, so 10.0.0.1 matches however the peer is written.
func ParsePrefix(s string) (netip.Prefix, error) {
	s = strings.TrimSpace(s)
	if strings.Contains(s, "/") {
		p, err := netip.ParsePrefix(s)
		if err != nil {
			return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR such as 203.0.113.0/24", s)
		}
		if p.Addr().Is4In6() {
			if p.Bits() < 96 {
				return netip.Prefix{}, fmt.Errorf("%q: an IPv4-mapped prefix needs at least 96 bits", s)
			}
			p = netip.PrefixFrom(p.Addr().Unmap(), p.Bits()-96)
		}
		return p.Masked(), nil
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		return netip.Prefix{}, fmt.Errorf("%q is not an address or CIDR such as 203.0.113.0/24", s)
	}
	a = a.Unmap()
	return netip.PrefixFrom(a, a.BitLen()), nil
}

func checkListen(p *problems, key, addr string, optional bool) {
	if addr == "" && optional {
		return
	}
	if _, port, err := net.SplitHostPort(addr); err != nil || port == "" {
		p.add(key, "%q is not a host:port address such as \":8080\" or \"127.0.0.1:9090\"", addr)
	}
}

func (c *Config) validateTencent(p *problems) {
	t := c.Tencent
	if t.Window <= 0 {
		p.add("tencent.window", "must be positive (Tencent waits 2s)")
	}
	if t.MaxClockSkew <= 0 {
		p.add("tencent.max_clock_skew", "must be positive (Tencent's documentation asks for 60s)")
	}
	for i, tok := range append([]string{t.AuthToken}, t.AuthTokens...) {
		key := "tencent.auth_token"
		if i > 0 {
			key = fmt.Sprintf("tencent.auth_tokens[%d]", i-1)
		}
		if len(tok) > 128 {
			p.add(key, "is %d characters; Tencent's tokens are 1 to 128", len(tok))
		}
	}
	if n := len(t.Tokens()); n > MaxTokensPerApp {
		p.add("tencent.auth_tokens", "there are %d tokens (auth_token and auth_tokens together); at most %d: every callback's Sign is computed with each", n, MaxTokensPerApp)
	}
	checkCIDRs(p, "tencent.allowed_cidrs", t.AllowedCIDRs)
	c.validateApps(p)
}

// validatePolicy checks a policy; commands are the route's commands (nil for defaults),
// against which a deny code is checked.
func (c *Config) validatePolicy(p *problems, key string, pol Policy, commands []string) {
	if d := pol.Deadline; d != nil {
		windowKey, window := c.windowFor(commands)
		switch {
		case *d < MinDeadline:
			p.add(key+".deadline", "%s is too short; use at least %s", *d, MinDeadline)
		case window > 0 && *d >= window:
			p.add(key+".deadline", "%s is not shorter than %s (%s): Tencent would give up before the router answers", *d, windowKey, window)
		}
	}
	if r := pol.Retries; r != nil && (*r < 0 || *r > MaxRetries) {
		p.add(key+".retries", "%d is outside 0..%d", *r, MaxRetries)
	}
	if a := pol.AttemptTimeout; a != nil && *a < 0 {
		p.add(key+".attempt_timeout", "must not be negative (0 lets each attempt use what is left of the deadline)")
	}
	for i, s := range pol.RetryOn {
		if s < 400 || s > 599 {
			p.add(fmt.Sprintf("%s.retry_on[%d]", key, i), "%d is not an HTTP error status", s)
		}
	}
	if m := pol.MaxInFlight; m != nil && *m <= 0 {
		p.add(key+".max_in_flight", "must be positive")
	}
	if pol.Breaker != nil && commands != nil {
		p.add(key+".breaker", "breakers belong to upstream instances: set it under defaults or under the upstream")
	}
	if f := pol.Fallback; f != nil {
		validateFallback(p, key+".fallback", *f, commands)
	}
}

func validateFallback(p *problems, key string, f Fallback, commands []string) {
	switch f.Action {
	case "allow":
		if f.ErrorCode != nil && *f.ErrorCode != 0 {
			p.add(key+".error_code", "%d with action allow: an allow verdict has ErrorCode 0; use action deny", *f.ErrorCode)
		}
	case "deny":
		code := int64(tencent.DenyCodeDefault)
		if f.ErrorCode != nil {
			code = *f.ErrorCode
		}
		if code == 0 {
			p.add(key+".error_code", "0 means allow; a deny needs a non-zero code (default 1)")
			return
		}
		if code < math.MinInt32 || code > math.MaxInt32 {
			// Tencent reads ErrorCode as a signed 32-bit integer (tencent.IsEnvelope refuses
			// an upstream's answer past it): the router's own deny would be a failed callback.
			p.add(key+".error_code", "%d is outside the signed 32-bit range Tencent reads ErrorCode in", code)
			return
		}
		for _, cmd := range tencent.Catalogue {
			if !matchesAny(commands, cmd.Name) || cmd.AcceptsDenyCode(code) {
				continue
			}
			p.add(key+".error_code", "%d is not a deny code Tencent accepts for %s (it accepts %s)", code, cmd.Name, cmd.DenyCodesText())
		}
	default:
		p.add(key+".action", "%q is not allow or deny", f.Action)
	}
}

// matchesAny reports whether name is served by one of the route's command patterns; nil
// patterns (the defaults) match every command.
func matchesAny(patterns []string, name string) bool {
	if patterns == nil {
		return true
	}
	for _, pat := range patterns {
		if MatchCommand(pat, name) {
			return true
		}
	}
	return false
}

func validateBreaker(p *problems, key string, b Breaker, complete bool) {
	if complete && b.ConsecutiveFailures == 0 {
		p.add(key+".consecutive_failures", "must be at least 1")
	}
	if b.OpenFor < 0 || (complete && b.OpenFor == 0) {
		p.add(key+".open_for", "must be positive")
	}
	if complete && b.HalfOpenRequests == 0 {
		p.add(key+".half_open_requests", "must be at least 1")
	}
}

func (c *Config) validateUpstreams(p *problems) {
	if len(c.Upstreams) == 0 {
		p.add("upstreams", "none defined; define at least one, e.g. upstreams: {gifts: {url: http://127.0.0.1:9001/tencent}}")
	}
	for _, name := range sortedKeys(c.Upstreams) {
		u := c.Upstreams[name]
		key := "upstreams." + name
		urls := u.Instances()
		if len(urls) == 0 {
			p.add(key, "has no url; set url or urls")
		}
		for i, raw := range urls {
			k := key + ".url"
			if u.URL == "" || i > 0 {
				k = fmt.Sprintf("%s.urls[%d]", key, i-boolInt(u.URL != ""))
			}
			if err := checkURL(raw); err != nil {
				p.add(k, "%v", err)
			}
		}
		if u.Breaker != nil {
			validateBreaker(p, key+".breaker", *u.Breaker, false)
		}
		if u.MaxConns < 0 {
			p.add(key+".max_conns", "must not be negative")
		}
		if u.MaxResponseBytes < 0 {
			p.add(key+".max_response_bytes", "must not be negative")
		}
		if u.Pipeline < 0 || u.Pipeline > MaxPipeline {
			p.add(key+".pipeline", "%d is outside 0..%d (0: no pipelining; N: pipelined over N connections per instance)", u.Pipeline, MaxPipeline)
		}
	}
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// checkURL says what is wrong with an upstream URL, quoting it masked by redact.URL.
func checkURL(raw string) error {
	shown := redact.URL(raw)
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return fmt.Errorf("%q is not a URL%s", shown, parseDetail(err))
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Errorf("%q must be an absolute http:// or https:// URL", shown)
	case u.Host == "" || u.Hostname() == "":
		return fmt.Errorf("%q has no host", shown)
	case u.Fragment != "" || u.User != nil:
		return fmt.Errorf("%q must not carry a fragment or credentials", shown)
	}
	return nil
}

// parseDetail is net/url's reason a URL does not parse, without the URL it repeats and
// without a reason that quotes part of it (an invalid escape or port may be a password's).
func parseDetail(err error) string {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if msg := err.Error(); !strings.Contains(msg, `"`) {
		return ": " + msg
	}
	return ""
}

func (c *Config) validateRoutes(p *problems) {
	if len(c.Routes) == 0 {
		p.add("routes", "none defined; add at least one, e.g. - commands: [\"*\"]")
	}
	// A command or pattern may appear once among the routes for every app, and once more
	// in each app's own routes: the route naming the app wins over the one for every app.
	type scoped struct{ app, pattern string }
	seen := map[scoped]string{} // app ("" for every app) and PatternKey -> key that defined it
	apps := c.appNames()
	for i, r := range c.Routes {
		key := fmt.Sprintf("routes[%d]", i)
		if len(r.Commands) == 0 {
			p.add(key+".commands", "is empty; list the commands this route serves")
		}
		scopes := []string{""}
		if len(r.Apps) > 0 {
			scopes = slices.Compact(slices.Sorted(slices.Values(r.Apps)))
		}
		for j, app := range r.Apps {
			ak := fmt.Sprintf("%s.apps[%d]", key, j)
			switch {
			case !slices.Contains(apps, app):
				p.add(ak, "%q is not an app served here (apps: %s)", app, strings.Join(apps, ", "))
			case slices.Contains(r.Apps[:j], app):
				p.add(ak, "%q is listed twice", app)
			}
		}
		for j, cmd := range r.Commands {
			ck := fmt.Sprintf("%s.commands[%d]", key, j)
			if err := checkPattern(cmd); err != nil {
				p.add(ck, "%v", err)
				continue
			}
			for _, app := range scopes {
				sk := scoped{app, PatternKey(cmd)}
				prev, dup := seen[sk]
				switch {
				case dup && app == "":
					p.add(ck, "%q is also served by %s; each command or pattern may appear once among the routes for every app", cmd, prev)
				case dup:
					p.add(ck, "%q is also served for app %s by %s; each command or pattern may appear once among an app's routes", cmd, app, prev)
				default:
					seen[sk] = ck
				}
			}
		}
		names := r.UpstreamNames()
		if r.Upstream != "" && len(r.Upstreams) > 0 {
			p.add(key+".upstreams", "set either upstream or upstreams, not both")
		}
		if len(r.Upstreams) > 0 && !r.Async {
			p.add(key+".upstreams", "several upstreams (fan-out) need async: true; a before-callback has one answer")
		}
		if r.Async && len(names) == 0 {
			p.add(key+".async", "an async route needs an upstream to deliver to")
		}
		for i, name := range names {
			if slices.ContainsFunc(names[:i], func(prev string) bool { return UpstreamKey(prev) == UpstreamKey(name) }) {
				// A second listing would deliver the callback twice with bbolt and once with
				// JetStream (which drops the repeat by its id): neither is what was meant.
				p.add(fmt.Sprintf("%s.upstreams[%d]", key, i), "%q is listed twice; each upstream receives each callback once", name)
			}
			if _, ok := c.Upstream(name); !ok {
				p.add(key+".upstream", "%q is not defined under upstreams (defined: %s)", name, strings.Join(sortedKeys(c.Upstreams), ", "))
			}
		}
		if r.Ordered && !r.Async {
			p.add(key+".ordered", "only async routes deliver in the background; set async: true or remove ordered")
		}
		if r.Journal && r.Async {
			p.add(key+".journal", "an async route never answers from its fallback verdict; journal is for synchronous routes")
		}
		if r.Journal && len(names) == 0 {
			p.add(key+".journal", "the journal is delivered to the route's upstream; set upstream")
		}
		if r.Async && r.Retries != nil {
			p.add(key+".retries", "async routes retry until delivery.max_age; remove retries")
		}
		if r.Shadow != nil {
			c.validateShadow(p, key, r)
		}
		c.validatePolicy(p, key, r.Policy, r.Commands)
		if f := r.Policy.Inherit(c.Defaults).Fallback; r.Fallback == nil && f != nil && f.Action == "deny" {
			// The default deny code must also suit this route's commands.
			validateFallback(p, key+".fallback (inherited from defaults)", *f, r.Commands)
		}
	}
}

// appNames returns the names of the apps served, in config order.
func (c *Config) appNames() []string {
	apps := c.Tencent.ServedApps()
	names := make([]string, 0, len(apps))
	for _, a := range apps {
		names = append(names, a.Name)
	}
	return names
}

func (c *Config) validateDelivery(p *problems) {
	d := c.Delivery
	switch d.Backend {
	case BackendBolt:
		if strings.TrimSpace(d.Dir) == "" {
			p.add("delivery.dir", "is empty; name the directory that holds the delivery store, e.g. ./data")
		}
	case BackendJetStream:
		c.validateJetStream(p)
	default:
		p.add("delivery.backend", "%q is not %s or %s", d.Backend, BackendBolt, BackendJetStream)
	}
	if d.MaxItems <= 0 {
		p.add("delivery.max_items", "must be positive")
	}
	if d.MaxBytes < 1<<20 {
		p.add("delivery.max_bytes", "%d is below 1 MiB: it would refuse callbacks of ordinary size", d.MaxBytes)
	}
	if d.Workers <= 0 {
		p.add("delivery.workers", "must be positive")
	}
	if d.MaxAge <= 0 {
		p.add("delivery.max_age", "must be positive")
	}
	if d.AttemptDeadline <= 0 {
		p.add("delivery.attempt_deadline", "must be positive")
	}
	if d.Backoff.Initial <= 0 {
		p.add("delivery.backoff.initial", "must be positive")
	}
	if d.Backoff.Max < d.Backoff.Initial {
		p.add("delivery.backoff.max", "%s is shorter than delivery.backoff.initial (%s)", d.Backoff.Max, d.Backoff.Initial)
	}
}

func (c *Config) validateJetStream(p *problems) {
	j := c.Delivery.JetStream
	for _, raw := range strings.Split(j.URL, ",") {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || (u.Scheme != "nats" && u.Scheme != "tls") || u.Host == "" {
			p.add("delivery.jetstream.url", "%q is not a nats:// or tls:// URL", redact.URL(raw))
		}
	}
	for _, k := range []struct{ key, v string }{
		{"delivery.jetstream.stream", j.Stream}, {"delivery.jetstream.subject", j.Subject},
		{"delivery.jetstream.dead_subject", j.DeadSubject}, {"delivery.jetstream.consumer", j.Consumer},
	} {
		if k.v == "" || strings.ContainsAny(k.v, " \t*>") {
			p.add(k.key, "%q must be a non-empty name without spaces or wildcards", k.v)
		}
	}
	if j.Subject == j.DeadSubject {
		p.add("delivery.jetstream.dead_subject", "must differ from delivery.jetstream.subject")
	}
	if strings.ContainsAny(j.Stream, ".") {
		p.add("delivery.jetstream.stream", "%q: stream names may not contain dots", j.Stream)
	}
	if j.Replicas < 1 || j.Replicas > 5 {
		p.add("delivery.jetstream.replicas", "%d is outside 1..5", j.Replicas)
	}
	if j.Timeout <= 0 {
		p.add("delivery.jetstream.timeout", "must be positive")
	}
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
