package admin_test

import (
	"bufio"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
)

// TestAdminRefusesUnknownHostsWithoutToken: without server.admin_token, a request whose Host
// is not an IP address, localhost or a name of server.admin_hosts gets 403 — what a page
// on a name rebound to 127.0.0.1 (DNS rebinding) sends. Health checks and the status page's
// static shell stay open; with a token, any Host is served to a request that carries it.
func TestAdminRefusesUnknownHostsWithoutToken(t *testing.T) {
	table := anyTable(t)
	store := openSeededStore(t, 2)
	const token = "s3cret-admin-token"
	serve := func(token string) *httptest.Server {
		srv := httptest.NewServer(admin.New(admin.Options{Table: func() *router.Table { return table }, Metrics: metrics.New(),
			Deliveries: store, Token: token, Hosts: []string{"router-admin.internal"}}).Handler())
		t.Cleanup(srv.Close)
		return srv
	}
	open, guarded := serve(""), serve(token)
	tests := []struct {
		name, method, path, host, auth string
		srv                            *httptest.Server
		want                           int
	}{
		{"rebound name reads routes", "GET", "/routes", "attacker.example", "", open, 403},
		{"rebound name with its port", "GET", "/status.json", "attacker.example:9090", "", open, 403},
		{"rebound name lists the queue", "GET", "/queue/list", "attacker.example", "", open, 403},
		{"rebound name drops the queue", "POST", "/queue/drop?all=true", "attacker.example", "", open, 403},
		{"rebound name reads metrics", "GET", "/metrics", "attacker.example", "", open, 403},
		{"a name ending in localhost", "GET", "/routes", "localhost.attacker.example", "", open, 403},
		{"a name starting with a listed one", "GET", "/routes", "router-admin.internal.attacker.example", "", open, 403},
		{"a name that looks like an address", "GET", "/routes", "127.0.0.1.nip.io", "", open, 403},
		{"healthz stays open", "GET", "/healthz", "attacker.example", "", open, 200},
		{"readyz stays open", "GET", "/readyz", "attacker.example", "", open, 200},
		{"the status page's shell stays open", "GET", "/", "attacker.example", "", open, 200},
		{"IPv4 address", "GET", "/routes", "127.0.0.1:9090", "", open, 200},
		{"IPv6 address", "GET", "/routes", "[::1]:9090", "", open, 200},
		{"another host's address", "GET", "/routes", "10.1.2.3", "", open, 200},
		{"localhost", "GET", "/routes", "localhost:9090", "", open, 200},
		{"localhost in capitals with a trailing dot", "GET", "/routes", "LOCALHOST.", "", open, 200},
		{"a listed name", "GET", "/queue/list", "router-admin.internal:9090", "", open, 200},
		{"a listed name in another case", "GET", "/routes", "Router-Admin.Internal", "", open, 200},
		{"with a token, any name with the token", "GET", "/routes", "attacker.example", "Bearer " + token, guarded, 200},
		{"with a token, any name without it", "GET", "/routes", "localhost", "", guarded, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, _, _ := request(t, tt.method, tt.srv.URL+tt.path, map[string]string{"Host": tt.host, "Authorization": tt.auth}); got != tt.want {
				t.Errorf("%s %s with Host %q: %d, want %d", tt.method, tt.path, tt.host, got, tt.want)
			}
		})
	}
	if st := store.Stats(); st.Dead != 2 {
		t.Errorf("the store holds %d dead letters after the refused drop, want 2", st.Dead)
	}

	// An HTTP/1.0 request may carry no Host at all: it names nothing the operator chose.
	conn, err := net.Dial("tcp", strings.TrimPrefix(open.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("GET /routes HTTP/1.0\r\n\r\n")); err != nil {
		t.Fatal(err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(conn), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /routes without a Host: %d, want 403", resp.StatusCode)
	}
}
