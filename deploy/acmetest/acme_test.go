package acmetest

import (
	"context"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

const (
	zone     = "router.test"
	domain   = "callbacks." + zone
	token    = "acme-test-callback-token"
	sdkAppID = "1400000001"
	// validity is how long Pebble's certificates last: short, so that renewal comes within
	// the test (certmagic renews in the last third of a lifetime, or when ARI says).
	validity = 45 * time.Second
)

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

func buildRouter(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "callback-router")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// router is the callback-router process under test.
type router struct {
	cmd    *exec.Cmd
	logs   *syncBuffer
	exited chan struct{}
	err    error
}

func startRouter(t *testing.T, bin, config, serverCA string) *router {
	t.Helper()
	r := &router{logs: &syncBuffer{}, exited: make(chan struct{})}
	r.cmd = exec.Command(bin, "serve", "-config", config)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLBACK_ROUTER_") && !strings.HasPrefix(kv, "SSL_CERT_") {
			r.cmd.Env = append(r.cmd.Env, kv)
		}
	}
	// The router trusts the directory's https through the system roots, which
	// SSL_CERT_FILE replaces, as an operator of a private ACME CA would do.
	r.cmd.Env = append(r.cmd.Env, "SSL_CERT_FILE="+serverCA, "CALLBACK_ROUTER_TENCENT_AUTH_TOKEN="+token)
	r.cmd.Stdout, r.cmd.Stderr = r.logs, r.logs
	if err := r.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { r.err = r.cmd.Wait(); close(r.exited) }()
	t.Cleanup(func() { r.cmd.Process.Kill(); <-r.exited })
	return r
}

// stop sends SIGTERM and waits for a clean exit.
func (r *router) stop(t *testing.T) {
	t.Helper()
	r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.exited:
	case <-time.After(30 * time.Second):
		t.Fatalf("router did not exit after SIGTERM; output:\n%s", r.logs)
	}
	if r.err != nil {
		t.Errorf("router exit: %v, want status 0; output:\n%s", r.err, r.logs)
	}
}

// clientFor connects to the router's port for any name and verifies the certificate
// against Pebble's root and the test's domain, as Tencent would against a public CA.
func clientFor(port int, roots *x509.CertPool) (*tls.Config, *http.Client) {
	conf := &tls.Config{RootCAs: roots, ServerName: domain, NextProtos: []string{"http/1.1"}}
	dial := func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	}
	return conf, &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: dial, TLSClientConfig: conf}}
}

// servedLeaf completes a verified handshake and returns the router's certificate.
func servedLeaf(port int, conf *tls.Config) (*x509.Certificate, error) {
	d := &tls.Dialer{Config: conf, NetDialer: &net.Dialer{Timeout: 2 * time.Second}}
	c, err := d.Dial("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return nil, err
	}
	defer c.Close()
	return c.(*tls.Conn).ConnectionState().PeerCertificates[0], nil
}

// waitLeaf polls until a verified handshake serves a certificate accepted by accept.
func waitLeaf(t *testing.T, what string, limit time.Duration, port int, conf *tls.Config, r *router, accept func(*x509.Certificate) bool) *x509.Certificate {
	t.Helper()
	var last error
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(500 * time.Millisecond) {
		leaf, err := servedLeaf(port, conf)
		if err == nil && accept(leaf) {
			return leaf
		}
		last = err
	}
	t.Fatalf("%s: not within %s (last handshake error: %v); router output:\n%s", what, limit, last, r.logs)
	return nil
}

// sendGift posts a signed gift callback over https and returns the answer.
func sendGift(t *testing.T, client *http.Client, port int) string {
	t.Helper()
	rt := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha256.Sum256([]byte(token + rt))
	q := url.Values{"SdkAppid": {sdkAppID}, "CallbackCommand": {"Live.CallbackBeforeSendGift"}, "contenttype": {"json"},
		"ClientIP": {"127.0.0.1"}, "OptPlatform": {"RESTAPI"}, "RequestTime": {rt}, "Sign": {hex.EncodeToString(sum[:])}}
	u := fmt.Sprintf("https://%s:%d/?%s", domain, port, q.Encode())
	body := `{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"From_Account":"a","GiftId":"g","Count":1,"Coins":1}}`
	resp, err := client.Post(u, "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatalf("signed callback over https: %v", err)
	}
	defer resp.Body.Close()
	answer, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != http.StatusOK || resp.Header.Get("X-Callback-Fallback") != "" {
		t.Fatalf("signed callback: %s, fallback %q, body %s", resp.Status, resp.Header.Get("X-Callback-Fallback"), answer)
	}
	return string(answer)
}

// writeConfig writes a config for these tests in a directory of the test's own, which also
// holds the store, and returns its path: callbacks on port, the admin listener on admin,
// server.tls.acme and tencent from the YAML given, and one route of command to gifts at
// giftsURL.
func writeConfig(t *testing.T, port, admin int, acme, tencent, command, giftsURL string) string {
	t.Helper()
	dir := t.TempDir()
	config := filepath.Join(dir, "config.yaml")
	if err := os.WriteFile(config, []byte(fmt.Sprintf(`
server:
  listen: "127.0.0.1:%d"
  admin_listen: "127.0.0.1:%d"
  shutdown_timeout: 5s
  tls: {acme: %s}
tencent: %s
upstreams:
  gifts: {url: %q}
routes:
  - commands: [%q]
    upstream: gifts
delivery: {dir: %q}
`, port, admin, acme, tencent, giftsURL, command, filepath.Join(dir, "data"))), 0o600); err != nil {
		t.Fatal(err)
	}
	return config
}

// TestACMEObtainsServesAndRenews runs the router with server.tls.acme against Pebble: it
// obtains a certificate for the test's domain through TLS-ALPN-01 on its callback port,
// serves a signed callback over https with it, renews it as it nears expiry, and after a
// restart serves the renewed one from its cache without a new order.
func TestACMEObtainsServesAndRenews(t *testing.T) {
	bin := buildRouter(t)
	port, admin := freePort(t), freePort(t)
	dnsAddr := startDNS(t, zone)
	ca := startPebble(t, dnsAddr, port, validity)

	const verdict = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"from the gift service"}`
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, verdict)
	}))
	t.Cleanup(upstream.Close)

	config := writeConfig(t, port, admin,
		fmt.Sprintf("{domains: [%s], email: ops@example.com, ca: %q, renew_interval: 1s}", domain, ca.directory),
		fmt.Sprintf("{sdk_app_ids: [%s]}", sdkAppID), "Live.CallbackBeforeSendGift", upstream.URL+"/gifts")

	r := startRouter(t, bin, config, ca.serverCA)
	conf, client := clientFor(port, ca.roots)
	first := waitLeaf(t, "a certificate from Pebble", 60*time.Second, port, conf, r, func(*x509.Certificate) bool { return true })
	if lifetime := first.NotAfter.Sub(first.NotBefore); lifetime > validity {
		t.Fatalf("served certificate lives %s, want Pebble's short %s", lifetime, validity)
	}
	t.Logf("obtained: serial %x, %s to %s", first.SerialNumber, first.NotBefore.Format(time.TimeOnly), first.NotAfter.Format(time.TimeOnly))
	if got := sendGift(t, client, port); got != verdict {
		t.Errorf("answer: got %s, want the upstream's %s", got, verdict)
	}

	renewed := waitLeaf(t, "the certificate renewed", validity+30*time.Second, port, conf, r, func(c *x509.Certificate) bool {
		return c.SerialNumber.Cmp(first.SerialNumber) != 0 && c.NotAfter.After(first.NotAfter)
	})
	t.Logf("renewed: serial %x, %s to %s", renewed.SerialNumber, renewed.NotBefore.Format(time.TimeOnly), renewed.NotAfter.Format(time.TimeOnly))
	if got := sendGift(t, client, port); got != verdict {
		t.Errorf("answer after renewal: got %s, want the upstream's %s", got, verdict)
	}
	r.stop(t)
	// The CA's validation reached the callback listener itself (no second port).
	for _, want := range []string{`"challenge_type":"tls-alpn-01"`, "served key authentication certificate"} {
		if !strings.Contains(r.logs.String(), want) {
			t.Errorf("the router's log lacks %s:\n%s", want, r.logs)
		}
	}

	logs := r.logs.String()
	for _, secret := range []string{token, "PRIVATE KEY", "BEGIN"} {
		if strings.Contains(logs, secret) {
			t.Errorf("the router's log contains %q", secret)
		}
	}
	keys, _ := filepath.Glob(filepath.Join(filepath.Dir(config), "data", "acme", "certificates", "*", domain, domain+".key"))
	if len(keys) != 1 {
		t.Fatalf("cache: got %d key files for %s under delivery.dir/acme, want 1", len(keys), domain)
	}
	if info, err := os.Stat(keys[0]); err != nil || info.Mode().Perm()&0o077 != 0 {
		t.Errorf("cached key %s: mode %v (%v), want no access for group or others", keys[0], info.Mode(), err)
	}

	// A restart serves the cached certificate at once, without asking Pebble.
	pebbleLog := len(ca.log.String())
	r2 := startRouter(t, bin, config, ca.serverCA)
	again := waitLeaf(t, "the cached certificate after a restart", 15*time.Second, port, conf, r2, func(*x509.Certificate) bool { return true })
	if again.NotAfter.Before(renewed.NotAfter) {
		t.Errorf("after the restart: serial %x expiring %s, want the renewed one or a later one", again.SerialNumber, again.NotAfter)
	}
	if again.SerialNumber.Cmp(renewed.SerialNumber) == 0 && strings.Contains(ca.log.String()[pebbleLog:], "Issued certificate") {
		t.Errorf("the restart served the cached certificate but also ordered a new one")
	}
	if got := sendGift(t, client, port); got != verdict {
		t.Errorf("answer after restart: got %s, want the upstream's %s", got, verdict)
	}
	r2.stop(t)
}

// TestACMEWithAllowedCIDRs: at the edge, tencent.allowed_cidrs admits only Tencent's egress,
// while the CA validates from addresses it does not publish. The certificate must still be
// obtained: a refused connection gets its TLS handshake (so the CA's TLS-ALPN-01 validation,
// which is only a handshake, completes) before the 403 it would get for a request.
func TestACMEWithAllowedCIDRs(t *testing.T) {
	bin := buildRouter(t)
	port, admin := freePort(t), freePort(t)
	ca := startPebble(t, startDNS(t, zone), port, time.Hour)
	// 192.0.2.0/24 (TEST-NET-1) is nobody's: loopback, where Pebble validates from, is refused.
	config := writeConfig(t, port, admin, fmt.Sprintf("{domains: [%s], ca: %q}", domain, ca.directory),
		fmt.Sprintf(`{sdk_app_ids: [%s], allowed_cidrs: ["192.0.2.0/24"]}`, sdkAppID), "*", "http://127.0.0.1:9/gifts")
	r := startRouter(t, bin, config, ca.serverCA)
	conf, client := clientFor(port, ca.roots)
	waitLeaf(t, "a certificate from Pebble with loopback outside allowed_cidrs", 60*time.Second, port, conf, r, func(*x509.Certificate) bool { return true })

	// The source check itself still holds: a callback from loopback is refused.
	resp, err := client.Post(fmt.Sprintf("https://%s:%d/?SdkAppid=%s&CallbackCommand=Live.CallbackAfterCreateRoom", domain, port, sdkAppID),
		"application/json", strings.NewReader(`{"CallbackCommand":"Live.CallbackAfterCreateRoom"}`))
	if err != nil {
		t.Fatalf("callback from outside allowed_cidrs: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("callback from outside allowed_cidrs: got %s, want 403", resp.Status)
	}
	r.stop(t)
}
