package admin_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
)

// TestAdminToken: with server.admin_token set, every admin path but the health checks and
// the status page's shell needs the bearer token; without it, nothing does.
func TestAdminToken(t *testing.T) {
	table := anyTable(t)
	const token = "s3cret-admin-token"
	tests := []struct {
		name, token, path, auth string
		want                    int
	}{
		{"healthz open", token, "/healthz", "", 200},
		{"readyz open", token, "/readyz", "", 200},
		{"status page shell open", token, "/", "", 200},
		{"routes without a token", token, "/routes", "", 401},
		{"metrics without a token", token, "/metrics", "", 401},
		{"status.json without a token", token, "/status.json", "", 401},
		{"routes with the token", token, "/routes", "Bearer " + token, 200},
		{"metrics with the token", token, "/metrics", "Bearer " + token, 200},
		{"scheme is case-insensitive", token, "/routes", "bearer " + token, 200},
		{"wrong token", token, "/routes", "Bearer s3cret-admin-tokeN", 401},
		{"token prefix", token, "/routes", "Bearer s3cret", 401},
		{"token with more after it", token, "/routes", "Bearer " + token + "x", 401},
		{"basic auth is not a bearer token", token, "/routes", "Basic " + token, 401},
		{"bare token", token, "/routes", token, 401},
		{"no token configured", "", "/routes", "", 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adm := admin.New(admin.Options{Table: func() *router.Table { return table }, Metrics: metrics.New(), Token: tt.token})
			srv := httptest.NewServer(adm.Handler())
			defer srv.Close()
			status, header, _ := request(t, http.MethodGet, srv.URL+tt.path, map[string]string{"Authorization": tt.auth})
			if status != tt.want {
				t.Errorf("GET %s with %q: %d, want %d", tt.path, tt.auth, status, tt.want)
			}
			if wa := header.Get("WWW-Authenticate"); (status == 401) != strings.HasPrefix(wa, "Bearer") {
				t.Errorf("WWW-Authenticate = %q with status %d", wa, status)
			}
		})
	}
}

// TestQueuePathsAreGuarded: the /queue paths, which can replay or drop stored callbacks,
// need the admin token like every data path, and their POSTs are refused when a browser
// sends them from another site (a page the operator has open), even without a token.
func TestQueuePathsAreGuarded(t *testing.T) {
	store, err := delivery.OpenBolt(delivery.BoltOptions{Dir: t.TempDir(), MaxItems: 10, MaxBytes: 1 << 20}, queueOptions)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close(t.Context())
	const token = "s3cret-admin-token"
	tests := []struct {
		name, token, method, path string
		headers                   map[string]string
		want                      int
	}{
		{"stats without a token", token, "GET", "/queue/stats", nil, 401},
		{"stats with the token", token, "GET", "/queue/stats", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"drop without a token", token, "POST", "/queue/drop?command=Mic.*", nil, 401},
		{"drop with the token", token, "POST", "/queue/drop?command=Mic.*", map[string]string{"Authorization": "Bearer " + token}, 200},
		{"drop from the command line, no token set", "", "POST", "/queue/drop?command=Mic.*", nil, 200},
		{"drop from another site's page", "", "POST", "/queue/drop?command=Mic.*", map[string]string{"Sec-Fetch-Site": "cross-site"}, 403},
		{"replay from another origin", "", "POST", "/queue/replay?command=Mic.*", map[string]string{"Origin": "https://evil.example"}, 403},
		{"replay from the status page itself", "", "POST", "/queue/replay?command=Mic.*", map[string]string{"Sec-Fetch-Site": "same-origin"}, 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			adm := admin.New(admin.Options{Deliveries: store, Token: tt.token})
			srv := httptest.NewServer(adm.Handler())
			defer srv.Close()
			if got, _, _ := request(t, tt.method, srv.URL+tt.path, tt.headers); got != tt.want {
				t.Errorf("%s %s with %v: %d, want %d", tt.method, tt.path, tt.headers, got, tt.want)
			}
		})
	}
}
