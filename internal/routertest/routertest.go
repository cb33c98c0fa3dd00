// Package routertest turns router configs written as YAML in a test into parsed configs and
// compiled route tables, failing the test when one does not parse or compile, for the tests
// of the packages that read tables: server, admin, metrics, stats, reload, cli and router
// itself. Only tests import it.
package routertest

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/router"
)

// Parse parses the YAML config.
func Parse(t testing.TB, yaml string) *config.Config {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatalf("config.Parse() = %v", err)
	}
	return cfg
}

// Compile compiles cfg into a route table with opts.
func Compile(t testing.TB, cfg *config.Config, opts router.Options) *router.Table {
	t.Helper()
	table, err := router.Compile(cfg, opts)
	if err != nil {
		t.Fatalf("router.Compile() = %v", err)
	}
	return table
}

// Table parses the YAML config and compiles it with opts.
func Table(t testing.TB, yaml string, opts router.Options) *router.Table {
	t.Helper()
	return Compile(t, Parse(t, yaml), opts)
}
