package cli

import (
	"bytes"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/router"
)

// TestWarnTRTCKeys: when the config routes TRTC events on their own, the start warns of each
// app that will refuse them (signed Chat callbacks, no TRTC key), and of no other.
func TestWarnTRTCKeys(t *testing.T) {
	const apps = `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [t1], trtc_key: Key1}
    - {sdk_app_id: 1400000002, name: staging, tokens: [t2]}
    - {sdk_app_id: 1400000003, name: open}
upstreams: {rooms: {url: "http://127.0.0.1:9001/trtc"}}
`
	tests := []struct {
		name, yaml string
		want       []string // apps warned of
	}{
		{name: "a TRTC route", yaml: apps + `routes: [{commands: ["TRTC.*"], upstream: rooms}, {commands: ["*"]}]`, want: []string{"staging"}},
		{name: "trtc_path", yaml: "server: {trtc_path: /trtc}\n" + apps + `routes: [{commands: ["*"]}]`, want: []string{"staging"}},
		{name: "no TRTC route", yaml: apps + `routes: [{commands: ["*"], upstream: rooms}]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader(tt.yaml))
			if err != nil {
				t.Fatal(err)
			}
			table, err := router.Compile(cfg, router.Options{})
			if err != nil {
				t.Fatal(err)
			}
			var logs bytes.Buffer
			warnTRTCKeys(zerolog.New(&logs), table)
			if got, want := strings.Count(logs.String(), "no TRTC key"), len(tt.want); got != want {
				t.Errorf("warned %d times, want %d:\n%s", got, want, &logs)
			}
			for _, app := range tt.want {
				if !strings.Contains(logs.String(), `"app":"`+app+`"`) {
					t.Errorf("no warning for app %s:\n%s", app, &logs)
				}
			}
		})
	}
}
