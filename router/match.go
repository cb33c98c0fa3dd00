package router

import (
	"cmp"
	"slices"
	"strings"
)

// How a command found its route, for `routes -command` and logs.
const (
	ByExact    = "exact"
	ByPrefix   = "prefix"
	ByCatchAll = "catch-all"
	ByNone     = "none"
)

// Match is the route a command takes and why.
type Match struct {
	Route *Route
	// By is ByExact, ByPrefix, ByCatchAll or ByNone (no route: the default fallback).
	By string
	// Pattern is the route pattern that matched, "" for ByNone.
	Pattern string
}

type prefixRoute struct {
	prefix  string
	pattern string
	route   *Route
}

// matcher finds the most specific route for a command: an exact name, else the longest
// matching prefix pattern, else "*". Names match ignoring case: the exact spelling Tencent
// sends is found by one map lookup, and only a miss pays for the case-insensitive scan (routes
// are few, and a scan allocates nothing where lower-casing the command would).
type matcher struct {
	exact    map[string]*Route
	exactAll []prefixRoute // the exact patterns again, for the case-insensitive scan
	prefixes []prefixRoute // longest first
	catchAll *Route
}

func (m *matcher) add(pattern string, r *Route) {
	switch {
	case pattern == "*":
		m.catchAll = r
	case strings.HasSuffix(pattern, "*"):
		m.prefixes = append(m.prefixes, prefixRoute{prefix: strings.TrimSuffix(pattern, "*"), pattern: pattern, route: r})
		slices.SortStableFunc(m.prefixes, func(a, b prefixRoute) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	default:
		m.exact[pattern] = r
		m.exactAll = append(m.exactAll, prefixRoute{pattern: pattern, route: r})
	}
}

func (m *matcher) lookup(command string) Match {
	if r, ok := m.exact[command]; ok {
		return Match{Route: r, By: ByExact, Pattern: command}
	}
	for _, e := range m.exactAll {
		if strings.EqualFold(e.pattern, command) {
			return Match{Route: e.route, By: ByExact, Pattern: e.pattern}
		}
	}
	for _, p := range m.prefixes {
		if len(command) >= len(p.prefix) && strings.EqualFold(command[:len(p.prefix)], p.prefix) {
			return Match{Route: p.route, By: ByPrefix, Pattern: p.pattern}
		}
	}
	if m.catchAll != nil {
		return Match{Route: m.catchAll, By: ByCatchAll, Pattern: "*"}
	}
	return Match{By: ByNone}
}
