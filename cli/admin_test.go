package cli

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

// TestAdminHosts: the names the admin listener answers to without a token are
// server.admin_hosts plus admin_listen's own name, never its address.
func TestAdminHosts(t *testing.T) {
	tests := []struct {
		listen string
		hosts  []string
		want   []string
	}{
		{"127.0.0.1:9090", nil, nil},
		{":9090", []string{"a.internal"}, []string{"a.internal"}},
		{"[::1]:9090", nil, nil},
		{"router-admin.internal:9090", []string{"a.internal"}, []string{"a.internal", "router-admin.internal"}},
		{"", nil, nil},
	}
	for _, tt := range tests {
		if got := adminHosts(config.Server{AdminListen: tt.listen, AdminHosts: tt.hosts}); !slices.Equal(got, tt.want) {
			t.Errorf("adminHosts(%q, %q) = %q, want %q", tt.listen, tt.hosts, got, tt.want)
		}
	}
}

func TestWarnExposedAdmin(t *testing.T) {
	tests := []struct {
		addr, token string
		warn        bool
	}{
		{"127.0.0.1:9090", "", false},
		{"[::1]:9090", "", false},
		{"localhost:9090", "", false},
		{"", "", false},
		{":9090", "", true},
		{"0.0.0.0:9090", "", true},
		{"10.0.0.5:9090", "", true},
		{"0.0.0.0:9090", "tok-never-logged", false},
	}
	for _, tt := range tests {
		t.Run(tt.addr+"/"+tt.token, func(t *testing.T) {
			var buf bytes.Buffer
			warnExposedAdmin(zerolog.New(&buf), config.Server{AdminListen: tt.addr, AdminToken: tt.token})
			if got := strings.Contains(buf.String(), "server.admin_token is not set"); got != tt.warn {
				t.Errorf("warned = %v, want %v: %s", got, tt.warn, buf.String())
			}
			if tt.token != "" && strings.Contains(buf.String(), tt.token) {
				t.Errorf("the admin token was logged: %s", buf.String())
			}
		})
	}
}

// TestQueueCommandSendsAdminToken: when the running router's admin listener requires
// server.admin_token, `queue` sends the token from the same config (or environment), and
// without it is refused.
func TestQueueCommandSendsAdminToken(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	seedDeadLetters(t, dir, "Live.CallbackAfterEndBattle")
	const token = "queue-admin-token"
	base := queueConfig(dir, serveQueueAdmin(t, dir, token))
	withToken := testutil.WriteFile(t, "config.yaml", strings.Replace(base, "server: {", "server: {admin_token: "+token+", ", 1))
	if code, out, errOut := run(t, "queue", "list", "-config", withToken); code != ExitOK || !strings.Contains(out, "1 dead record(s)") {
		t.Errorf("queue list with the token: exit %d, output %q, stderr %q", code, out, errOut)
	}
	without := testutil.WriteFile(t, "config.yaml", base)
	if code, _, errOut := run(t, "queue", "list", "-config", without); code == ExitOK || !strings.Contains(errOut, "401") {
		t.Errorf("queue list without the token: exit %d, stderr %q; want a 401 refusal", code, errOut)
	}
}
