package router

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/proxy"
)

// Table is an immutable snapshot of a compiled config: what the request path needs and
// nothing it would have to look up in viper. A new config produces a new Table.
type Table struct {
	// Config is the validated config the table was compiled from; read-only.
	Config *config.Config
	// Routes in config order.
	Routes []*Route
	// NoRoute answers commands no route matches: the defaults' fallback, reason no_route.
	NoRoute *Route
	// Upstreams by (lower-cased) name.
	Upstreams map[string]*proxy.Upstream

	// Ingress settings.
	Path         string
	Tokens       []string
	MaxClockSkew time.Duration
	sdkAppIDs    map[string]struct{} // decimal strings, compared without parsing
	// Window is how long Tencent waits for an answer (tencent.window): whatever the router
	// does before answering, storing a callback included, must end inside it.
	Window time.Duration

	// LoadedAt is when the table was compiled.
	LoadedAt time.Time

	matcher matcher
	specs   map[string]proxy.Spec // what each upstream was built from, to reuse it on reload
}

// Options carry what Compile needs beyond the config.
type Options struct {
	// OnBreakerChange is told of every breaker transition.
	OnBreakerChange proxy.StateChangeFunc
	// RetryLogger, if set, receives go-retryablehttp's logs (debugging only).
	RetryLogger retryablehttp.LeveledLogger
	// Previous is the table being replaced, if any: an upstream whose spec did not change is
	// taken over from it whole, breakers and connection pools included (see reuse).
	Previous *Table
}

// Compile builds a Table from a validated config.
func Compile(cfg *config.Config, opts Options) (*Table, error) {
	t := &Table{
		Config:       cfg,
		Upstreams:    make(map[string]*proxy.Upstream, len(cfg.Upstreams)),
		Path:         cfg.Server.Path,
		Tokens:       cfg.Tencent.Tokens(),
		Window:       cfg.Tencent.Window,
		MaxClockSkew: cfg.Tencent.MaxClockSkew,
		sdkAppIDs:    make(map[string]struct{}, len(cfg.Tencent.SdkAppIDs)),
		LoadedAt:     time.Now(),
		matcher:      matcher{exact: map[string]*Route{}},
		specs:        make(map[string]proxy.Spec, len(cfg.Upstreams)),
	}
	for _, id := range cfg.Tencent.SdkAppIDs {
		t.sdkAppIDs[strconv.FormatUint(id, 10)] = struct{}{}
	}
	for name, u := range cfg.Upstreams {
		spec := proxy.Spec{
			Name:             name,
			URLs:             u.Instances(),
			Breaker:          breakerSettings(cfg.Defaults.Breaker, u.Breaker),
			MaxConns:         u.MaxConns,
			MaxResponseBytes: u.MaxResponseBytes,
			OnStateChange:    opts.OnBreakerChange,
			Logger:           opts.RetryLogger,
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
	for i, rc := range cfg.Routes {
		r, err := t.compileRoute(cfg, i, rc)
		if err != nil {
			return nil, err
		}
		t.Routes = append(t.Routes, r)
		for _, pattern := range rc.Commands {
			t.matcher.add(pattern, r)
		}
	}
	t.NoRoute = t.policyRoute("no_route", cfg.Defaults, cfg.Defaults)
	return t, nil
}

func (t *Table) compileRoute(cfg *config.Config, i int, rc config.Route) (*Route, error) {
	name := rc.Name
	if name == "" {
		name = rc.Commands[0]
	}
	r := t.policyRoute(name, cfg.Defaults, rc.Policy)
	r.Commands = slices.Clone(rc.Commands)
	r.Async, r.Ordered, r.Journal = rc.Async, rc.Ordered, rc.Journal
	for _, un := range rc.UpstreamNames() {
		up, ok := t.Upstreams[lower(un)]
		if !ok {
			return nil, fmt.Errorf("routes[%d].upstream: %q is not defined", i, un)
		}
		r.Upstreams = append(r.Upstreams, up)
	}
	if s := rc.Shadow; s != nil {
		up, ok := t.Upstreams[lower(s.Upstream)]
		if !ok {
			return nil, fmt.Errorf("routes[%d].shadow.upstream: %q is not defined", i, s.Upstream)
		}
		r.Shadow = &Shadow{Upstream: up, Percent: s.ShadowPercent(), MaxInFlight: int64(s.ShadowMaxInFlight())}
	}
	return r, nil
}

// policyRoute resolves a policy against the defaults: a key the route leaves unset inherits.
func (t *Table) policyRoute(name string, def, p config.Policy) *Route {
	return &Route{
		Name:           name,
		Deadline:       *pick(p.Deadline, def.Deadline),
		Retries:        *pick(p.Retries, def.Retries),
		AttemptTimeout: *pick(p.AttemptTimeout, def.AttemptTimeout),
		RetryOn:        slices.Clone(cmpOr(p.RetryOn, def.RetryOn)),
		Fallback:       compileVerdict(*pick(p.Fallback, def.Fallback)),
		MaxInFlight:    int64(*pick(p.MaxInFlight, def.MaxInFlight)),
	}
}

func pick[T any](v, def *T) *T {
	if v != nil {
		return v
	}
	return def
}

func cmpOr[T any](v, def []T) []T {
	if v != nil {
		return v
	}
	return def
}

// breakerSettings fills the upstream's breaker keys it leaves at zero from the defaults.
func breakerSettings(def, own *config.Breaker) proxy.BreakerSettings {
	b := *def
	if own != nil {
		if own.ConsecutiveFailures != 0 {
			b.ConsecutiveFailures = own.ConsecutiveFailures
		}
		if own.OpenFor != 0 {
			b.OpenFor = own.OpenFor
		}
		if own.HalfOpenRequests != 0 {
			b.HalfOpenRequests = own.HalfOpenRequests
		}
	}
	return proxy.BreakerSettings{ConsecutiveFailures: b.ConsecutiveFailures, OpenFor: b.OpenFor, HalfOpenRequests: b.HalfOpenRequests}
}

// Lookup returns the route a command takes and why.
func (t *Table) Lookup(command string) Match {
	m := t.matcher.lookup(command)
	if m.Route == nil {
		m.Route = t.NoRoute
	}
	return m
}

// ServesApp reports whether callbacks of this SdkAppid are served; all are when none is listed.
func (t *Table) ServesApp(sdkAppID string) bool {
	if len(t.sdkAppIDs) == 0 {
		return true
	}
	_, ok := t.sdkAppIDs[sdkAppID]
	return ok
}

// ServesAnyApp reports whether the config lists no SdkAppid, so every app is served.
func (t *Table) ServesAnyApp() bool { return len(t.sdkAppIDs) == 0 }

func lower(s string) string { return strings.ToLower(s) }
