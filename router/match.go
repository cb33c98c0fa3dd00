package router

import (
	"cmp"
	"slices"

	"github.com/callback-router/callback-router/config"
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
	// ForApp is set when the route names the callback's app (routes[].apps) rather than
	// admitting every app.
	ForApp bool
	// Over is the route for every app with the same pattern that the app's own route beat,
	// nil when there is none.
	Over *Route
}

// entry is one pattern of one route in an app's matcher.
type entry struct {
	pattern string
	prefix  string // what a pattern ending in "*" requires (config.PatternPrefix)
	route   *Route
	forApp  bool
	over    *Route
}

func (e *entry) match(by string) Match {
	return Match{Route: e.route, By: by, Pattern: e.pattern, ForApp: e.forApp, Over: e.over}
}

// matcher finds the most specific route for a command among the routes that admit one app:
// an exact name, else the longest matching prefix pattern, else "*". Whether a pattern
// matches is config.MatchCommand's to say (ignoring case); the matcher only orders the
// patterns by specificity. The exact spelling Tencent sends is found by one map lookup, and
// only a miss pays for the case-insensitive scan (routes are few, and a scan allocates
// nothing where lower-casing the command would). Every app has its own matcher, so the
// request path never weighs the apps of a route.
type matcher struct {
	exact    map[string]*entry
	exactAll []*entry // the exact patterns again, for the case-insensitive scan
	prefixes []*entry // longest prefix first
	catchAll *entry
	noRoute  *Route // answers a command no pattern matches (ByNone)
}

// newMatcher builds the matcher of one app from its routes' patterns. A pattern of a route
// naming the app replaces the same pattern (ignoring case) of a route for every app; config
// validation leaves no other repeated pattern.
func newMatcher(entries []entry, noRoute *Route) matcher {
	byPattern := map[string]*entry{}
	var order []*entry
	for _, e := range entries {
		key := config.PatternKey(e.pattern)
		if prev, ok := byPattern[key]; ok {
			switch {
			case e.forApp && !prev.forApp:
				over := prev.route
				*prev = e
				prev.over = over
			case prev.forApp && !e.forApp:
				prev.over = e.route
			}
			continue
		}
		byPattern[key] = &e
		order = append(order, &e)
	}
	m := matcher{exact: map[string]*entry{}, noRoute: noRoute}
	for _, e := range order {
		switch prefix, ok := config.PatternPrefix(e.pattern); {
		case ok && prefix == "":
			m.catchAll = e
		case ok:
			e.prefix = prefix
			m.prefixes = append(m.prefixes, e)
		default:
			m.exact[e.pattern] = e
			m.exactAll = append(m.exactAll, e)
		}
	}
	slices.SortStableFunc(m.prefixes, func(a, b *entry) int { return cmp.Compare(len(b.prefix), len(a.prefix)) })
	return m
}

func (m *matcher) lookup(command string) Match {
	if e, ok := m.exact[command]; ok {
		return e.match(ByExact)
	}
	for _, e := range m.exactAll {
		if config.SameCommand(e.pattern, command) {
			return e.match(ByExact)
		}
	}
	for _, e := range m.prefixes {
		if config.HasCommandPrefix(command, e.prefix) {
			return e.match(ByPrefix)
		}
	}
	if m.catchAll != nil {
		return m.catchAll.match(ByCatchAll)
	}
	return Match{Route: m.noRoute, By: ByNone}
}
