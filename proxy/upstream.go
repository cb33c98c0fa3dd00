package proxy

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/redact"
	"github.com/callback-router/callback-router/tracing"
)

// Spec is what an Upstream is built from.
type Spec struct {
	Name    string
	URLs    []string
	Breaker BreakerSettings
	// MaxConns bounds the connections to each instance, busy or idle.
	MaxConns         int
	MaxResponseBytes int64
	// Pipeline, when above 0, pipelines the attempts to each instance over that many
	// connections (HTTP/1.1 pipelining); MaxConns then bounds the attempts waiting. The
	// pipelining client dials and redials by itself, once a second while it fails: an
	// attempt meanwhile waits for its deadline (or attempt_timeout), so a refused
	// connection shows as a timeout.
	Pipeline int
	// ConnLog, if set, is told of connection failures the pipelining client meets between
	// attempts (it has no caller to return them to).
	ConnLog func(format string, args ...any)
	// OnStateChange, if set, is told of every breaker transition.
	OnStateChange StateChangeFunc
	// OnQueryParamDropped, if set, is told of every incoming query parameter not sent
	// because the instance URL sets it itself (see ownQuery).
	OnQueryParamDropped QueryDropFunc
	// Logger, if set, receives go-retryablehttp's own lines (one per attempt at debug level,
	// which costs allocations on the hot path: leave it nil unless debugging).
	Logger Logger
	// Tracer, if set, traces every attempt (a span, and traceparent to the instance); nil
	// when tracing is off.
	Tracer *tracing.Tracer
}

// Logger is go-retryablehttp's LeveledLogger, named here so that whoever passes one need not
// import go-retryablehttp. The values it gets may include the request's URL, whose query is
// Tencent's (Sign included), and errors that quote it: an implementation must redact both.
type Logger interface {
	Error(msg string, keysAndValues ...any)
	Info(msg string, keysAndValues ...any)
	Debug(msg string, keysAndValues ...any)
	Warn(msg string, keysAndValues ...any)
}

// Upstream is a named backend: one or more instances, each with its own breaker and
// connection pool, called through go-retryablehttp by one Caller per policy. It is safe for
// concurrent use.
type Upstream struct {
	name      string
	instances []*instance
	next      atomic.Uint32
	// url names the upstream in every call's request (http://<name>/): the transport picks
	// the instance, so nothing above it knows one.
	url *url.URL
	// owns are the distinct own queries of the instances, to report once per call the
	// incoming parameters they shadow; onDrop is told of each.
	owns   []ownQuery
	onDrop func(param, requestID string)
	logger Logger
	tracer *tracing.Tracer

	mu      sync.Mutex
	callers map[string]*Caller // by Policy.key
}

// New builds an Upstream from s.
func New(s Spec) (*Upstream, error) {
	if len(s.URLs) == 0 {
		return nil, fmt.Errorf("upstream %s: no url", s.Name)
	}
	up := &Upstream{
		name:    s.Name,
		url:     &url.URL{Scheme: "http", Host: s.Name, Path: "/"},
		logger:  s.Logger,
		tracer:  s.Tracer,
		callers: map[string]*Caller{},
	}
	for _, raw := range s.URLs {
		u, err := url.Parse(raw)
		if err != nil {
			// Not err: net/url's message repeats the URL, credentials included.
			return nil, fmt.Errorf("upstream %s: %q is not a URL", s.Name, redact.URL(raw))
		}
		inst := newInstance(s.Name, u, s)
		up.instances = append(up.instances, inst)
		if inst.own.raw != "" && !containsQuery(up.owns, inst.own.raw) {
			up.owns = append(up.owns, inst.own)
		}
	}
	if s.OnQueryParamDropped != nil {
		up.onDrop = func(param, requestID string) { s.OnQueryParamDropped(s.Name, param, requestID) }
	}
	return up, nil
}

// Name returns the upstream's configured name.
func (u *Upstream) Name() string { return u.name }

// Available reports whether some instance's breaker would let a call through now. The
// router checks it first so that an open breaker is answered at once, without building a
// request.
func (u *Upstream) Available() bool {
	for _, inst := range u.instances {
		if !inst.state.refusing() {
			return true
		}
	}
	return false
}

// pick returns the next instance in turn whose breaker is not open, or nil when all are.
// With one instance it is that one: its breaker decides. The turns of instances skipped
// are used up, so the open one's share is spread over the others rather than all given to
// the instance after it.
func (u *Upstream) pick() *instance {
	n := uint32(len(u.instances))
	if n == 1 {
		return u.instances[0]
	}
	start := u.next.Add(1)
	for i := range n {
		inst := u.instances[(start+i)%n]
		if !inst.state.refusing() {
			if i > 0 {
				u.next.Add(i)
			}
			return inst
		}
	}
	return nil
}

// instanceName names the instance a request as sent went to (see transport.response), ""
// when it is none of this upstream's.
func (u *Upstream) instanceName(sent *http.Request) string {
	if sent == nil {
		return ""
	}
	for _, inst := range u.instances {
		if sent.URL == inst.nameURL {
			return inst.name
		}
	}
	return ""
}

// reportDrops tells onDrop, once per call, of each incoming parameter an instance URL's own
// shadows (the transport leaves them out of every attempt).
func (u *Upstream) reportDrops(call *Call) {
	if u.onDrop == nil || len(u.owns) == 0 || call.RawQuery == "" {
		return
	}
	var told []string
	for i := range u.owns {
		u.owns[i].merge(call.RawQuery, call.RequestID, func(param, requestID string) {
			if !containsFold(told, param) {
				told = append(told, param)
				u.onDrop(param, requestID)
			}
		})
	}
}

// InstanceState describes one instance's breaker for the admin surface and tests.
type InstanceState struct {
	URL   string
	State gobreaker.State
}

// States returns the breaker state of every instance.
func (u *Upstream) States() []InstanceState {
	out := make([]InstanceState, len(u.instances))
	for i, inst := range u.instances {
		out[i] = InstanceState{URL: inst.name, State: inst.breaker.State()}
	}
	return out
}
