package reload

import (
	"reflect"
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

// restartKeys lists the keys whose change a reload cannot apply: the listeners and their
// limits (server.*), the delivery queue (delivery.*), the trace exporter (tracing.*) and the
// logger (log.*) are built once at start. Every other section lives in the route table and changes at once.
func restartKeys(old, next *config.Config) []string {
	var keys []string
	diffKeys("server", reflect.ValueOf(old.Server), reflect.ValueOf(next.Server), &keys)
	diffKeys("delivery", reflect.ValueOf(old.Delivery), reflect.ValueOf(next.Delivery), &keys)
	diffKeys("tracing", reflect.ValueOf(old.Tracing), reflect.ValueOf(next.Tracing), &keys)
	diffKeys("log", reflect.ValueOf(old.Log), reflect.ValueOf(next.Log), &keys)
	return keys
}

// diffKeys appends the dotted key of every field that differs between two values of the
// same struct type, descending into nested structs; keys are spelled as in the file.
func diffKeys(prefix string, a, b reflect.Value, out *[]string) {
	for i := range a.NumField() {
		f := a.Type().Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("mapstructure"), ",")
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		key := prefix + "." + name
		if f.Type.Kind() == reflect.Struct {
			diffKeys(key, a.Field(i), b.Field(i), out)
			continue
		}
		if !liveKeys[key] && !reflect.DeepEqual(a.Field(i).Interface(), b.Field(i).Interface()) {
			*out = append(*out, key)
		}
	}
}
