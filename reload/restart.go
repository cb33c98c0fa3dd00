package reload

import (
	"reflect"
	"slices"
	"strings"

	"github.com/callback-router/callback-router/config"
)

// liveKeys are the keys of the restart-only sections that a reload does apply: the route
// table carries them (the callback handler reads them from the table it routes with), the
// listener does not.
var liveKeys = map[string]bool{
	"server.path":            true,
	"server.trusted_proxies": true,
	"server.max_json_depth":  true,
}

// restartSections are the sections whose keys a reload cannot apply: the listeners and
// their limits (server.*), the delivery queue (delivery.*), the trace exporter (tracing.*)
// and the logger (log.*) are built once at start. Every other section lives in the route
// table and changes at once.
var restartSections = []string{"server", "delivery", "tracing", "log"}

// restartKeys lists, spelled as in the file and in the order of the config's fields, the
// keys whose change a reload cannot apply.
func restartKeys(old, next *config.Config) []string {
	was, is := config.Settings(old), config.Settings(next)
	values := func(settings []config.Setting) map[string]any {
		m := make(map[string]any, len(settings))
		for _, s := range settings {
			m[s.Key] = s.Value
		}
		return m
	}
	before, after := values(was), values(is)
	var keys []string
	// A key only one of them has (a pointer set in one) is a change too.
	for _, s := range append(was, is...) {
		section, _, _ := strings.Cut(s.Key, ".")
		if slices.Contains(restartSections, section) && !liveKeys[s.Key] && !slices.Contains(keys, s.Key) &&
			!reflect.DeepEqual(before[s.Key], after[s.Key]) {
			keys = append(keys, s.Key)
		}
	}
	return keys
}
