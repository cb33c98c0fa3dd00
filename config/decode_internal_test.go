package config

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-viper/mapstructure/v2"
)

// TestMapstructureErrorShapes pins what decodeProblems and unknownKeys take from
// mapstructure's errors, so that an upgrade which changes any of it fails here, loudly,
// rather than change the keys users see: every problem is a *mapstructure.DecodeError; its
// Name spells a nested key with dots and indexes, an upstream's key as upstreams[name] and
// the top level as the Go type; keys with no field come in one message starting with
// invalidKeysPrefix, listed with ", ".
func TestMapstructureErrorShapes(t *testing.T) {
	const yaml = `
sever: 1
server: {lisen: x}
upstreams: {gifts: {max_conns: many, uri: x}}
routes:
  - commands: ["*"]
  - commands: ["*"]
    retires: 2
    deadline: abc
`
	v := newViper(false)
	if err := v.ReadConfig(strings.NewReader(yaml)); err != nil {
		t.Fatal(err)
	}
	type shape struct{ name, message string }
	read := func(err error) []shape {
		t.Helper()
		var out []shape
		for _, e := range decodeErrors(err) {
			var de *mapstructure.DecodeError
			if !errors.As(e, &de) {
				t.Errorf("decode error %q (%T) is not a *mapstructure.DecodeError", e, e)
				continue
			}
			out = append(out, shape{de.Name(), de.Unwrap().Error()})
		}
		slices.SortFunc(out, func(a, b shape) int { return strings.Compare(a.name, b.name) })
		return out
	}

	strict := read(v.UnmarshalExact(new(Config), decodeHooks()))
	for _, want := range []shape{
		{rootName, invalidKeysPrefix + "sever"},
		{"server", invalidKeysPrefix + "lisen"},
		{"upstreams[gifts]", invalidKeysPrefix + "uri"},
		{"routes[1]", invalidKeysPrefix + "retires"},
	} {
		if !slices.Contains(strict, want) {
			t.Errorf("strict decode gave %q, want it to include %q", strict, want)
		}
	}

	lenient := read(v.Unmarshal(new(Config), decodeHooks()))
	var names []string
	for _, s := range lenient {
		names = append(names, s.name)
	}
	if want := []string{"routes[1].deadline", "upstreams[gifts].max_conns"}; !slices.Equal(names, want) {
		t.Errorf("lenient decode named %q, want %q", names, want)
	}

	// And what users see of them.
	for name, want := range map[string]string{
		rootName:                     "",
		"server":                     "server",
		"upstreams[gifts]":           "upstreams.gifts",
		"upstreams[gifts].max_conns": "upstreams.gifts.max_conns",
		"routes[1].deadline":         "routes[1].deadline",
	} {
		if got := docKey(name); got != want {
			t.Errorf("docKey(%q) = %q, want %q", name, got, want)
		}
	}
}
