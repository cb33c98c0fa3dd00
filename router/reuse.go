package router

import (
	"reflect"

	"github.com/callback-router/callback-router/proxy"
)

// reuse returns prev's upstream of the same name when it was built from an equal spec, so
// that a reload keeps its breakers (their counts and open state) and its connection pools:
// gobreaker's settings are fixed at creation, and a breaker rebuilt on every reload would
// forget that an upstream is down. It returns nil when there is nothing to reuse.
func reuse(prev *Table, s proxy.Spec) *proxy.Upstream {
	if prev == nil {
		return nil
	}
	old, ok := prev.specs[s.Name]
	if !ok || !sameSpec(old, s) {
		return nil
	}
	return prev.Upstreams[s.Name]
}

// sameSpec reports whether two specs build the same upstream: the same URLs, breaker
// settings and limits. The hooks (OnStateChange, OnQueryParamDropped, Logger, ConnLog,
// Tracer) are not compared: they are the process's, not the config's, and functions cannot
// be compared anyway.
func sameSpec(a, b proxy.Spec) bool {
	a.OnStateChange, b.OnStateChange = nil, nil
	a.OnQueryParamDropped, b.OnQueryParamDropped = nil, nil
	a.Tracer, b.Tracer = nil, nil
	a.Logger, b.Logger = nil, nil
	a.ConnLog, b.ConnLog = nil, nil
	return reflect.DeepEqual(a, b)
}

// Retired returns the upstreams of old that next does not carry over: removed, or rebuilt
// because their spec changed. Once next is installed, whoever swapped it closes their idle
// connections; callbacks still in flight on old finish regardless.
func Retired(old, next *Table) []*proxy.Upstream {
	if old == nil {
		return nil
	}
	var out []*proxy.Upstream
	for name, up := range old.Upstreams {
		if next == nil || next.Upstreams[name] != up {
			out = append(out, up)
		}
	}
	return out
}
