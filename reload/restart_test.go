package reload

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/routertest"
)

const restartBase = `
server: {listen: ":8080", admin_listen: "127.0.0.1:9090", path: "/"}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]
`

func TestRestartKeys(t *testing.T) {
	tests := []struct {
		name     string
		old, new string
		want     []string
	}{
		{name: "nothing changed", want: nil},
		{name: "listen", old: `listen: ":8080"`, new: `listen: ":8081"`, want: []string{"server.listen"}},
		{name: "admin listen", old: `admin_listen: "127.0.0.1:9090"`, new: `admin_listen: ""`, want: []string{"server.admin_listen"}},
		{name: "path applies live", old: `path: "/"`, new: `path: "/tencent"`, want: nil},
		{name: "nested tls", old: `path: "/"}`, new: `path: "/", tls: {cert_file: a.pem, key_file: a.key}}`,
			want: []string{"server.tls.cert_file", "server.tls.key_file"}},
		{name: "server limit and queue", old: `path: "/"}`, new: "path: \"/\", read_timeout: 12s}\ndelivery: {max_items: 5}",
			want: []string{"server.read_timeout", "delivery.max_items"}},
		{name: "trusted proxies and json depth apply live", old: `path: "/"}`, new: `path: "/", trusted_proxies: ["10.0.0.0/8"], max_json_depth: 32}`, want: nil},
		{name: "admin token needs a restart", old: `path: "/"}`, new: `path: "/", admin_token: "s3cret"}`, want: []string{"server.admin_token"}},
		{name: "tracing needs a restart", old: `path: "/"}`, new: "path: \"/\"}\ntracing: {endpoint: \"http://127.0.0.1:4318\", sample_ratio: 1}",
			want: []string{"tracing.endpoint", "tracing.sample_ratio"}},
		{name: "a shadow applies live", old: `{gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], upstream: gifts}]`, new: `{gifts: {url: "http://127.0.0.1:9001/gifts"}, v2: {url: "http://127.0.0.1:9002/gifts"}}
routes: [{commands: ["*"], upstream: gifts, shadow: {upstream: v2}}]`, want: nil},
		{name: "routes apply live", old: `commands: ["*"]`, new: `commands: ["Live.*"]`, want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old := parse(t, restartBase)
			next := parse(t, strings.Replace(restartBase, tt.old, tt.new, 1))
			if got := restartKeys(old, next); !slices.Equal(got, tt.want) {
				t.Errorf("restartKeys() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestProblemsSplitsJoinedErrors(t *testing.T) {
	err := errors.Join(errors.New("routes[0].upstream: \"x\" is not defined"), errors.Join(errors.New("server.listen: bad"), errors.New("log.level: bad")))
	got := Problems(err)
	want := []string{`routes[0].upstream: "x" is not defined`, "server.listen: bad", "log.level: bad"}
	if !slices.Equal(got, want) {
		t.Errorf("Problems() = %q, want %q", got, want)
	}
	if got, want := Problems(errors.New("one")), []string{"one"}; !slices.Equal(got, want) {
		t.Errorf("Problems(single) = %q, want %q", got, want)
	}
}

func parse(t *testing.T, yaml string) *config.Config {
	t.Helper()
	cfg := routertest.Parse(t, yaml)
	return cfg
}
