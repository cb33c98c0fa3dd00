package testutil

import (
	"fmt"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// Config is a router config built key by key, so that a test states only the keys it is
// about and shares the rest. Keys are dotted paths as the README writes them
// (server.admin_listen, delivery.backoff); each setter returns the config for chaining.
type Config struct {
	doc map[string]any
}

// NewConfig returns a config serving callbacks on listen and the admin listener on admin
// ("" turns it off). It has no upstream and no route yet, and names no app: the router
// then serves any app, unsigned.
func NewConfig(listen, admin string) *Config {
	c := &Config{doc: map[string]any{}}
	return c.Set("server.listen", listen).Set("server.admin_listen", admin)
}

// Set sets key to value, as it is: a string stays a string (an address, a URL, a path). A
// key already set is replaced.
func (c *Config) Set(key string, value any) *Config {
	parent, last := c.doc, key
	for {
		name, rest, nested := strings.Cut(last, ".")
		if !nested {
			break
		}
		child, ok := parent[name].(map[string]any)
		if !ok {
			child = map[string]any{}
			parent[name] = child
		}
		parent, last = child, rest
	}
	parent[last] = value
	return c
}

// SetYAML sets key to the value the YAML text holds, typically a flow mapping such as
// `{initial: 20ms, max: 200ms}`; a key already set is replaced. It panics on text that is
// not YAML: a test's own typo.
func (c *Config) SetYAML(key, text string) *Config {
	return c.Set(key, parseYAML(text))
}

// With merges a YAML mapping into the config: a mapping into the mapping already there, key
// by key, anything else replacing what was there. With("server: {drain_grace: 2s}") keeps
// server.listen. It panics on text that is not a YAML mapping.
func (c *Config) With(text string) *Config {
	m, ok := parseYAML(text).(map[string]any)
	if !ok {
		panic(fmt.Sprintf("testutil: %q is not a YAML mapping", text))
	}
	merge(c.doc, m)
	return c
}

func merge(dst, src map[string]any) {
	for k, v := range src {
		d, dok := dst[k].(map[string]any)
		s, sok := v.(map[string]any)
		if dok && sok {
			merge(d, s)
			continue
		}
		dst[k] = v
	}
}

// Upstream adds an upstream called name at url.
func (c *Config) Upstream(name, url string) *Config {
	return c.Set("upstreams."+name+".url", url)
}

// Route appends a route, given as YAML text: `{commands: ["*"], upstream: gifts}`.
func (c *Config) Route(text string) *Config {
	routes, _ := c.doc["routes"].([]any)
	c.doc["routes"] = append(routes, parseYAML(text))
	return c
}

// Get returns the value at key, nil when it is not set.
func (c *Config) Get(key string) any {
	var v any = c.doc
	for name := range strings.SplitSeq(key, ".") {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[name]
	}
	return v
}

// Listen is server.listen.
func (c *Config) Listen() string { s, _ := c.Get("server.listen").(string); return s }

// Admin is server.admin_listen.
func (c *Config) Admin() string { s, _ := c.Get("server.admin_listen").(string); return s }

// String returns the config as a YAML document.
func (c *Config) String() string {
	b, err := yaml.Marshal(c.doc)
	if err != nil {
		panic(fmt.Sprintf("testutil: the config does not marshal: %v", err))
	}
	return string(b)
}

// Write writes the config to config.yaml in a directory of the test's own and returns its
// path.
func (c *Config) Write(t testing.TB) string {
	t.Helper()
	return WriteFile(t, "config.yaml", c.String())
}

func parseYAML(text string) any {
	var v any
	if err := yaml.Unmarshal([]byte(text), &v); err != nil {
		panic(fmt.Sprintf("testutil: %q is not YAML: %v", text, err))
	}
	return v
}
