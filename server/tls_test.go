package server_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"net/http/httptrace"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// writeCert writes a self-signed ECDSA certificate for 127.0.0.1 with the given serial into
// dir/name.crt and dir/name.key, and returns it.
func writeCert(t *testing.T, dir, name string, serial int64) *x509.Certificate {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(serial),
		Subject:      pkix.Name{CommonName: "callback-router test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	// Written beside and renamed into place, as certbot and cert-manager replace files.
	for file, block := range map[string]*pem.Block{
		name + ".crt": {Type: "CERTIFICATE", Bytes: der},
		name + ".key": {Type: "EC PRIVATE KEY", Bytes: keyDER},
	} {
		tmp := filepath.Join(dir, file+".tmp")
		if err := os.WriteFile(tmp, pem.EncodeToMemory(block), 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Rename(tmp, filepath.Join(dir, file)); err != nil {
			t.Fatal(err)
		}
	}
	cert, _ := x509.ParseCertificate(der)
	return cert
}

// TestHTTPSRoundTripAndCertReload serves https with a generated certificate: a callback
// makes the full round trip over TLS 1.2+ and HTTP/1.1 keep-alive, old protocol versions and
// CBC suites are refused, and a certificate renewed on disk is served without a restart.
func TestHTTPSRoundTripAndCertReload(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			dir := t.TempDir()
			first := writeCert(t, dir, "tls", 1)
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith(`server: {engine: `+engine+`, tls: {cert_file: "`+filepath.Join(dir, "tls.crt")+`", key_file: "`+filepath.Join(dir, "tls.key")+`"}}
tencent: {sdk_app_ids: [1400000001]}`, giftCommand, up.URL, ""))
			url := "https://" + strings.TrimPrefix(r.URL, "http://") + "?SdkAppid=1400000001&CallbackCommand=" + giftCommand

			pool := x509.NewCertPool()
			pool.AddCert(first)
			tr := &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}
			defer tr.CloseIdleConnections()
			c := &http.Client{Transport: tr, Timeout: 10 * time.Second}

			var reused []bool
			for range 3 {
				trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = append(reused, i.Reused) }}
				req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(giftBody))
				req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
				resp, err := c.Do(req)
				if err != nil {
					t.Fatalf("https callback: %v", err)
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || string(b) != allowEnvelope {
					t.Fatalf("https callback got %d %s, want the upstream's answer", resp.StatusCode, b)
				}
				if resp.TLS == nil || resp.TLS.Version < tls.VersionTLS12 || resp.Proto != "HTTP/1.1" {
					t.Errorf("answer over %s %+v, want HTTP/1.1 over TLS 1.2+", resp.Proto, resp.TLS)
				}
			}
			if len(reused) != 3 || !reused[1] || !reused[2] {
				t.Errorf("connection reused per callback: %v, want keep-alive after the first", reused)
			}
			if got := up.Hits(); got != 3 {
				t.Errorf("upstream called %d times, want 3", got)
			}

			addr := hostPort(r.URL)
			for _, bad := range []struct {
				name string
				cfg  *tls.Config
			}{
				{"TLS 1.1", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}},
				{"TLS 1.2 CBC suite only", &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS12, CipherSuites: []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA}}},
			} {
				conn, err := tls.DialWithDialer(&net.Dialer{Timeout: 5 * time.Second}, "tcp", addr, bad.cfg)
				if err == nil {
					conn.Close()
					t.Errorf("%s handshake succeeded, want it refused", bad.name)
				}
			}

			// A key that does not load (a renewal caught half written) is refused; the
			// previous certificate stays in use.
			time.Sleep(1100 * time.Millisecond)
			if err := os.WriteFile(filepath.Join(dir, "tls.key"), []byte("half written"), 0o600); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond)
			if conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool}); err != nil {
				t.Errorf("handshake after a broken key file: %v, want the previous certificate", err)
			} else {
				conn.Close()
			}

			// Renew: a new certificate and key are renamed over the files. New handshakes
			// get it once the files have been looked at again (at most a second later).
			time.Sleep(1100 * time.Millisecond)
			second := writeCert(t, dir, "tls", 2)
			pool.AddCert(second)
			testutil.Eventually(t, "the renewed certificate to be served", func() bool {
				conn, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool})
				if err != nil {
					return false
				}
				defer conn.Close()
				return conn.ConnectionState().PeerCertificates[0].SerialNumber.Int64() == 2
			})
		})
	}
}
