package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/router"
)

// TestWarnOpenDoorsNamesUnsignedApps: every app served without a token is warned about at
// start, by name, and an app with a token is not.
func TestWarnOpenDoorsNamesUnsignedApps(t *testing.T) {
	const routes = `
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]
`
	tests := []struct {
		name     string
		tencent  string
		want     []string // substrings of the log
		dontWant []string
	}{
		{name: "apps, one without a token", tencent: `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [t]}
    - {sdk_app_id: 1400000002, name: staging}`,
			want: []string{`"app":"staging"`, "not authenticated"}, dontWant: []string{`"app":"prod"`}},
		{name: "apps sharing a token", tencent: `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [p, shared]}
    - {sdk_app_id: 1400000002, name: staging, tokens: [s]}
    - {sdk_app_id: 1400000003, name: test, tokens: [shared]}`,
			want: []string{`"app":"prod","other_app":"test"`, "share a token"}, dontWant: []string{`"app":"staging"`, "shared\""}},
		{name: "apps, all signed", tencent: `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [t]}`,
			dontWant: []string{"not authenticated", "share a token"}},
		{name: "single-app form without a token", tencent: `
tencent: {sdk_app_ids: [1400000001]}`,
			want: []string{"tencent.auth_token is not set"}},
		{name: "single-app form with a token", tencent: `
tencent: {sdk_app_ids: [1400000001], auth_token: t}`,
			dontWant: []string{"not authenticated"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			table := routertest.Table(t, tt.tencent+routes, router.Options{})
			var buf bytes.Buffer
			warnOpenDoors(zerolog.New(&buf), table)
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("log %q lacks %q", buf.String(), w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(buf.String(), w) {
					t.Errorf("log %q has %q", buf.String(), w)
				}
			}
		})
	}
}
