package config

import (
	"math"
	"slices"
	"strings"
)

// Shadow mirrors a route's callbacks to a candidate upstream (a new moderation model, a new
// gift service) and compares its verdicts with the ones Tencent got. The candidate's answer
// never reaches Tencent and never delays it.
type Shadow struct {
	// Upstream is the candidate: any configured upstream but the route's own.
	Upstream string `mapstructure:"upstream"`
	// Percent is the share of the route's callbacks mirrored, 0 to 100, sampled by request
	// id. Default 100; 0 pauses the shadow without removing it.
	Percent *float64 `mapstructure:"percent"`
	// MaxInFlight bounds the mirrors running at once; past it a mirror is skipped and
	// counted, so a slow candidate cannot pile up goroutines. Default 64. Synchronous
	// routes only: an async route's shadow copies wait in the delivery store.
	MaxInFlight *int `mapstructure:"max_in_flight"`
}

// Shadow defaults, applied when the keys are left out.
const (
	DefaultShadowPercent     = 100.0
	DefaultShadowMaxInFlight = 64
)

// ShadowPercent returns percent, or its default when unset.
func (s Shadow) ShadowPercent() float64 {
	if s.Percent == nil {
		return DefaultShadowPercent
	}
	return *s.Percent
}

// ShadowMaxInFlight returns max_in_flight, or its default when unset.
func (s Shadow) ShadowMaxInFlight() int {
	if s.MaxInFlight == nil {
		return DefaultShadowMaxInFlight
	}
	return *s.MaxInFlight
}

// validateShadow checks a route's shadow: a candidate that exists and is not one of the
// route's own upstreams, a share in 0..100, a positive bound.
func (c *Config) validateShadow(p *problems, key string, r Route) {
	s := r.Shadow
	key += ".shadow"
	switch _, ok := c.Upstream(s.Upstream); {
	case s.Upstream == "":
		p.add(key+".upstream", "is empty; name the candidate upstream the route's callbacks are mirrored to")
	case !ok:
		p.add(key+".upstream", "%q is not defined under upstreams (defined: %s)", s.Upstream, strings.Join(sortedKeys(c.Upstreams), ", "))
	case slices.ContainsFunc(r.UpstreamNames(), func(name string) bool { return UpstreamKey(name) == UpstreamKey(s.Upstream) }):
		p.add(key+".upstream", "%q is one of the route's own upstreams; a shadow compares another upstream with them", s.Upstream)
	}
	if pc := s.ShadowPercent(); math.IsNaN(pc) || pc < 0 || pc > 100 {
		p.add(key+".percent", "%v is outside 0..100", pc)
	}
	if s.MaxInFlight != nil {
		switch {
		case r.Async:
			p.add(key+".max_in_flight", "an async route's shadow copies wait in the delivery store like its other deliveries; remove max_in_flight")
		case *s.MaxInFlight <= 0:
			p.add(key+".max_in_flight", "must be positive (the default is %d)", DefaultShadowMaxInFlight)
		}
	}
}
