package router

import (
	"fmt"
	"slices"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/tracing"
)

// Table is an immutable snapshot of a compiled config: what the request path needs, every
// setting it checks compiled once, and nothing it would have to look up in the config or in
// viper. A new config produces a new Table.
type Table struct {
	// Routes in config order.
	Routes []*Route
	// NoRoute answers commands no route matches: the defaults' fallback, reason no_route.
	NoRoute *Route
	// Upstreams by name, as config.UpstreamKey spells it; look one up with Upstream.
	Upstreams map[string]*proxy.Upstream

	// Apps are the apps served, in config order, each with its secrets and its routes.
	Apps []*App
	// Ingress settings. TRTCPath, when not empty, is the second path, for TRTC events only.
	Path         string
	TRTCPath     string
	MaxClockSkew time.Duration
	// MaxJSONDepth is server.max_json_depth: a body nesting deeper is refused.
	MaxJSONDepth int
	// Sources is who may post callbacks (tencent.allowed_cidrs, server.trusted_proxies).
	Sources SourcePolicy
	// Window is how long Tencent waits for an answer (tencent.window): whatever the router
	// does before answering, storing a callback included, must end inside it.
	Window time.Duration

	// LoadedAt is when the table was compiled.
	LoadedAt time.Time

	config *config.Config  // see CompiledFrom
	apps   map[string]*App // by decimal SdkAppid
	anyApp *App            // serves every SdkAppid (single-app form without ids), else nil
	// matcher holds the routes for every app: the routes of a callback whose app is not known.
	matcher matcher
	specs   map[string]proxy.Spec // what each upstream was built from, to reuse it on reload
}

// Options carry what Compile needs beyond the config.
type Options struct {
	// OnBreakerChange is told of every breaker transition.
	OnBreakerChange proxy.StateChangeFunc
	// OnQueryParamDropped is told of every incoming query parameter an upstream URL's own
	// parameter shadowed.
	OnQueryParamDropped proxy.QueryDropFunc
	// RetryLogger, if set, receives go-retryablehttp's logs (debugging only).
	RetryLogger proxy.Logger
	// ConnLog, if set, is told of connection failures a pipelining upstream meets.
	ConnLog func(format string, args ...any)
	// Tracer, if set, traces every upstream attempt; nil when tracing is off.
	Tracer *tracing.Tracer
	// Previous is the table being replaced, if any: an upstream whose spec did not change is
	// taken over from it whole, breakers and connection pools included (see reuse).
	Previous *Table
}

// Compile builds a Table from a validated config.
func Compile(cfg *config.Config, opts Options) (*Table, error) {
	t := &Table{
		config:       cfg,
		Upstreams:    make(map[string]*proxy.Upstream, len(cfg.Upstreams)),
		Path:         cfg.Server.Path,
		TRTCPath:     cfg.Server.TRTCPath,
		Window:       cfg.Tencent.Window,
		MaxClockSkew: cfg.Tencent.MaxClockSkew,
		MaxJSONDepth: cfg.Server.MaxJSONDepth,
		Sources:      compileSources(cfg),
		LoadedAt:     time.Now(),
		apps:         map[string]*App{},
		specs:        make(map[string]proxy.Spec, len(cfg.Upstreams)),
	}
	for name, u := range cfg.Upstreams {
		spec := proxy.Spec{
			Name:                name,
			URLs:                u.Instances(),
			Breaker:             breakerSettings(cfg.Defaults.Breaker, u.Breaker),
			MaxConns:            u.MaxConns,
			MaxResponseBytes:    u.MaxResponseBytes,
			Pipeline:            u.Pipeline,
			ConnLog:             opts.ConnLog,
			OnStateChange:       opts.OnBreakerChange,
			OnQueryParamDropped: opts.OnQueryParamDropped,
			Logger:              opts.RetryLogger,
			Tracer:              opts.Tracer,
		}
		up := reuse(opts.Previous, spec)
		if up == nil {
			var err error
			if up, err = proxy.New(spec); err != nil {
				return nil, err
			}
		}
		t.Upstreams[name] = up
		t.specs[name] = spec
	}
	patterns := make([][]string, len(cfg.Routes))
	var common []entry
	for i, rc := range cfg.Routes {
		r, err := t.compileRoute(cfg, i, rc)
		if err != nil {
			return nil, err
		}
		t.Routes = append(t.Routes, r)
		patterns[i] = rc.Commands
		if len(r.Apps) == 0 {
			for _, p := range rc.Commands {
				common = append(common, entry{pattern: p, route: r})
			}
		}
	}
	t.NoRoute = t.policyRoute("no_route", cfg.Defaults)
	t.matcher = newMatcher(common, t.NoRoute)
	t.compileApps(cfg, patterns)
	return t, nil
}

func (t *Table) compileRoute(cfg *config.Config, i int, rc config.Route) (*Route, error) {
	name := rc.Name
	if name == "" {
		name = rc.Commands[0]
	}
	r := t.policyRoute(name, rc.Policy.Inherit(cfg.Defaults))
	r.Commands = slices.Clone(rc.Commands)
	r.Apps = slices.Clone(rc.Apps)
	r.Async, r.Ordered, r.Journal = rc.Async, rc.Ordered, rc.Journal
	if rc.TRTCOnly() {
		r.Window = cfg.Tencent.TRTCWindow
	}
	for _, un := range rc.UpstreamNames() {
		up := t.Upstream(un)
		if up == nil {
			return nil, fmt.Errorf("routes[%d].upstream: %q is not defined", i, un)
		}
		r.Upstreams = append(r.Upstreams, up)
	}
	if !r.Async && len(r.Upstreams) > 0 {
		r.Caller = r.Upstreams[0].Caller(proxy.Policy{Retries: r.Retries, RetryOn: r.RetryOn, AttemptTimeout: r.AttemptTimeout})
	}
	if s := rc.Shadow; s != nil {
		up := t.Upstream(s.Upstream)
		if up == nil {
			return nil, fmt.Errorf("routes[%d].shadow.upstream: %q is not defined", i, s.Upstream)
		}
		r.Shadow = &Shadow{Upstream: up, Caller: up.Caller(proxy.Policy{Retries: 0}),
			Percent: s.ShadowPercent(), MaxInFlight: int64(s.ShadowMaxInFlight())}
	}
	return r, nil
}

// policyRoute compiles a policy with every key set: a route's, inherited from the defaults
// (config.Policy.Inherit), or the defaults themselves.
func (t *Table) policyRoute(name string, p config.Policy) *Route {
	return &Route{
		Name:           name,
		Deadline:       *p.Deadline,
		Window:         t.Window,
		Retries:        *p.Retries,
		AttemptTimeout: *p.AttemptTimeout,
		RetryOn:        slices.Clone(p.RetryOn),
		Fallback:       compileVerdict(*p.Fallback),
		MaxInFlight:    int64(*p.MaxInFlight),
	}
}

// breakerSettings is the breaker of an upstream's instances: its own keys, those it leaves
// at zero from the defaults (config.Breaker.Inherit).
func breakerSettings(def, own *config.Breaker) proxy.BreakerSettings {
	var b config.Breaker
	if own != nil {
		b = *own
	}
	b = b.Inherit(*def)
	return proxy.BreakerSettings{ConsecutiveFailures: b.ConsecutiveFailures, OpenFor: b.OpenFor, HalfOpenRequests: b.HalfOpenRequests}
}

// CompiledFrom returns the validated config the table was compiled from; read-only. It is
// for what is set up once or compared between loads — the listeners and the limits a
// reload cannot change, a reload's restart-only keys, the secret files to watch — never for
// the request path, which reads the compiled fields of the table.
func (t *Table) CompiledFrom() *config.Config { return t.config }

// Lookup returns the route a command of the app takes and why: among the routes that admit
// the app, the most specific command wins, and at equal specificity the route naming the app.
// A nil app (not known) sees only the routes for every app.
// It is small enough to inline, so the Match is built once, in the caller's frame.
func (t *Table) Lookup(app *App, command string) Match {
	mt := &t.matcher
	if app != nil {
		mt = &app.matcher
	}
	return mt.lookup(command)
}

// Upstream returns the upstream of that name (compared as config.UpstreamKey does), nil when
// the table has none: a stored delivery may name an upstream a reload removed.
func (t *Table) Upstream(name string) *proxy.Upstream {
	return t.Upstreams[config.UpstreamKey(name)]
}
