package metrics_test

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/callback-router/callback-router/metrics"
)

// metricName finds the router's metric names in a PromQL expression.
var metricName = regexp.MustCompile(`callback_router_[a-z0-9_]+`)

// exprs collects every "expr" string in a decoded JSON or YAML document.
func exprs(v any, out *[]string) {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			if s, ok := x.(string); ok && k == "expr" {
				*out = append(*out, s)
				continue
			}
			exprs(x, out)
		}
	case []any:
		for _, x := range v {
			exprs(x, out)
		}
	}
}

// TestExamplesUseExportedMetrics parses the Grafana dashboard and the alert rules shipped in
// examples/ and checks that every metric they name is one the router exports, so a rename
// cannot silently leave an empty panel or an alert that never fires.
func TestExamplesUseExportedMetrics(t *testing.T) {
	names := metrics.New().Names()
	exported := func(name string) bool {
		if slices.Contains(names, name) {
			return true
		}
		for _, suffix := range []string{"_bucket", "_sum", "_count"} {
			if base, ok := strings.CutSuffix(name, suffix); ok && slices.Contains(names, base) {
				return true
			}
		}
		return false
	}
	tests := []struct {
		file   string
		decode func([]byte, any) error
		// mustName are metrics the file is there to watch.
		mustName []string
	}{
		{file: "grafana-dashboard.json", decode: json.Unmarshal, mustName: []string{
			"callback_router_callbacks_total", "callback_router_fallbacks_total", "callback_router_breaker_state",
			"callback_router_callback_duration_seconds_bucket", "callback_router_shadow_total",
			"callback_router_shadow_duration_seconds_bucket", "callback_router_trace_spans_dropped_total"}},
		{file: "prometheus-alerts.yaml", decode: yaml.Unmarshal, mustName: []string{
			"callback_router_breaker_state", "callback_router_fallbacks_total",
			"callback_router_callback_duration_seconds_bucket", "callback_router_route_deadline_seconds",
			"callback_router_shadow_total", "callback_router_trace_spans_dropped_total"}},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			data, err := os.ReadFile("../examples/" + tt.file)
			if err != nil {
				t.Fatal(err)
			}
			var doc any
			if err := tt.decode(data, &doc); err != nil {
				t.Fatalf("%s does not parse: %v", tt.file, err)
			}
			var found []string
			exprs(doc, &found)
			if len(found) == 0 {
				t.Fatalf("%s has no expressions", tt.file)
			}
			seen := map[string]bool{}
			for _, e := range found {
				for _, name := range metricName.FindAllString(e, -1) {
					seen[name] = true
					if !exported(name) {
						t.Errorf("%s uses %s, which the router does not export (expr %q)", tt.file, name, e)
					}
				}
			}
			for _, name := range tt.mustName {
				if !seen[name] {
					t.Errorf("%s does not use %s", tt.file, name)
				}
			}
		})
	}
}
