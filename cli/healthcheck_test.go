package cli

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// adminStub is a loopback admin listener whose /readyz answers status.
func adminStub(t *testing.T, status int) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/readyz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(status)
		w.Write([]byte("state\n"))
	}))
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

func TestHealthcheck(t *testing.T) {
	isolate(t)
	ready, notReady, down := adminStub(t, http.StatusOK), adminStub(t, http.StatusServiceUnavailable), upstreamtest.DeadAddr(t)
	withAdmin := func(addr string) string {
		return testutil.WriteFile(t, "config.yaml", "server: {admin_listen: \""+addr+"\"}\n"+noCatchAll)
	}
	_, port, _ := net.SplitHostPort(ready)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStderr string
	}{
		{"ready, from the config", []string{"-config", withAdmin(ready)}, ExitOK, ""},
		{"ready, unspecified host means this one", []string{"-config", withAdmin("0.0.0.0:" + port)}, ExitOK, ""},
		{"ready, from -url", []string{"-url", "http://" + ready + "/readyz"}, ExitOK, ""},
		{"not ready", []string{"-config", withAdmin(notReady)}, ExitError, "503"},
		{"nothing listening", []string{"-config", withAdmin(down)}, ExitError, "connection refused"},
		{"admin listener disabled", []string{"-config", withAdmin("")}, ExitError, "server.admin_listen is empty"},
		// A refused reload leaves an invalid file while the router serves on: still healthy.
		{"config no longer validates, router ready", []string{"-config", testutil.WriteFile(t, "config.yaml", "server: {admin_listen: \""+ready+"\", admin_listn: x}\n"+noCatchAll)}, ExitOK, "does not validate"},
		{"config no longer validates, router down", []string{"-config", testutil.WriteFile(t, "config.yaml", "server: {admin_listen: \""+down+"\", admin_listn: x}\n"+noCatchAll)}, ExitError, "connection refused"},
		{"config not YAML", []string{"-config", testutil.WriteFile(t, "config.yaml", "server: [\n")}, ExitError, "not valid YAML"},
		{"bad -url", []string{"-url", "ftp://x"}, ExitError, "not an http(s) URL"},
		{"stray argument", []string{"extra"}, ExitUsage, "expected 0 argument"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, _, stderr := run(t, append([]string{"healthcheck"}, tc.args...)...)
			if code != tc.wantCode {
				t.Errorf("exit code: got %d, want %d (stderr %q)", code, tc.wantCode, stderr)
			}
			if !strings.Contains(stderr, tc.wantStderr) {
				t.Errorf("stderr: got %q, want it to contain %q", stderr, tc.wantStderr)
			}
		})
	}
}

func TestVersionStamped(t *testing.T) {
	for _, v := range []*string{&Version, &Commit, &Date} {
		old := *v
		t.Cleanup(func() { *v = old })
	}
	Version, Commit, Date = "v1.2.3", "0123456789abcdef0123456789abcdef01234567", "2026-11-29T04:33:00Z"
	code, stdout, _ := run(t, "version")
	if code != ExitOK {
		t.Fatalf("exit code: got %d, want %d", code, ExitOK)
	}
	want := "callback-router v1.2.3 (commit 0123456789ab, built 2026-11-29T04:33:00Z) go"
	if !strings.HasPrefix(stdout, want) {
		t.Errorf("version: got %q, want it to start with %q", stdout, want)
	}
}

// TestHealthcheckOnAPipedConfig: a config handed over through a named pipe cannot be read
// again; the check says to ask the router with -url instead of waiting for a writer.
func TestHealthcheckOnAPipedConfig(t *testing.T) {
	isolate(t)
	fifo := testutil.NamedPipe(t, "config.yaml")
	var code int
	var stderr string
	testutil.ReturnsWithoutWaitingOnPipe(t, fifo, nil, 5*time.Second, func() {
		code, _, stderr = run(t, "healthcheck", "-config", fifo)
	})
	if code != ExitError || !strings.Contains(stderr, "not a regular file") || !strings.Contains(stderr, "-url") {
		t.Errorf("got exit %d, stderr %q; want %d, saying it is not a regular file and to use -url", code, stderr, ExitError)
	}
}
