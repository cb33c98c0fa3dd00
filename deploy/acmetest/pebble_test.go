package acmetest

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/letsencrypt/pebble/v2/ca"
	"github.com/letsencrypt/pebble/v2/db"
	"github.com/letsencrypt/pebble/v2/va"
	"github.com/letsencrypt/pebble/v2/wfe"
	"github.com/miekg/dns"
)

// pebble is an ACME CA on loopback.
type pebble struct {
	directory string         // the ACME directory URL, https
	serverCA  string         // PEM file of the CA that signed the directory's own https certificate
	roots     *x509.CertPool // Pebble's issuing root, to verify what it issues
	log       *syncBuffer
}

// startPebble serves Pebble's ACME API on loopback over https. Its validation authority
// resolves names through dnsAddr and connects to tlsPort for TLS-ALPN-01; certificates it
// issues are valid for validity.
func startPebble(t *testing.T, dnsAddr string, tlsPort int, validity time.Duration) *pebble {
	t.Helper()
	// Read by Pebble's constructors: no random sleep before a validation, no nonces
	// refused at random (both exist to exercise clients' retries; they only slow this test).
	t.Setenv("PEBBLE_VA_NOSLEEP", "1")
	t.Setenv("PEBBLE_WFE_NONCEREJECT", "0")

	p := &pebble{log: &syncBuffer{}}
	logger := log.New(p.log, "pebble ", log.LstdFlags)
	store := db.NewMemoryStore()
	profiles := map[string]ca.Profile{"default": {Description: "short-lived, for the renewal test", ValidityPeriod: uint64(validity / time.Second)}}
	authority := ca.New(logger, store, "", "ecdsa", 0, 1, profiles)
	validator := va.New(logger, 0, tlsPort, false, dnsAddr, store)
	front := wfe.New(logger, store, validator, authority, []string{"pebble.letsencrypt.org"}, false, false, 0, 0)

	p.roots = x509.NewCertPool()
	p.roots.AppendCertsFromPEM(authority.GetRootCert(0).PEM())

	serverCA, serverCert := selfSignedServer(t)
	p.serverCA = filepath.Join(t.TempDir(), "pebble-https-ca.pem")
	if err := os.WriteFile(p.serverCA, serverCA, 0o600); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: front.Handler(), ReadHeaderTimeout: 5 * time.Second, ErrorLog: logger,
		TLSConfig: &tls.Config{Certificates: []tls.Certificate{serverCert}}}
	go srv.ServeTLS(ln, "", "")
	t.Cleanup(func() { srv.Close() })
	p.directory = "https://" + ln.Addr().String() + wfe.DirectoryPath
	return p
}

// selfSignedServer makes a CA and, signed by it, a certificate for 127.0.0.1: the https of
// Pebble's directory, which the router trusts through SSL_CERT_FILE.
func selfSignedServer(t *testing.T) (caPEM []byte, cert tls.Certificate) {
	t.Helper()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	caTmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "acmetest directory CA"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	caCert, _ := x509.ParseCertificate(caDER)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2), Subject: pkix.Name{CommonName: "127.0.0.1"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		KeyUsage: x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, caCert, &key.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: caDER}),
		tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key}
}

// startDNS serves DNS over TCP on loopback (Pebble's custom resolver speaks TCP), answering
// every A question for a name under zone with 127.0.0.1 and nothing else.
func startDNS(t *testing.T, zone string) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	zone = dns.Fqdn(zone)
	srv := &dns.Server{Listener: ln, Net: "tcp", Handler: dns.HandlerFunc(func(w dns.ResponseWriter, q *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(q)
		for _, question := range q.Question {
			if question.Qtype == dns.TypeA && dns.IsSubDomain(zone, strings.ToLower(question.Name)) {
				m.Answer = append(m.Answer, &dns.A{
					Hdr: dns.RR_Header{Name: question.Name, Rrtype: dns.TypeA, Class: dns.ClassINET, Ttl: 5},
					A:   net.IPv4(127, 0, 0, 1),
				})
			}
		}
		w.WriteMsg(m)
	})}
	started := make(chan struct{})
	srv.NotifyStartedFunc = func() { close(started) }
	go srv.ActivateAndServe()
	<-started
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		srv.ShutdownContext(ctx)
	})
	return ln.Addr().String()
}

// syncBuffer is a bytes.Buffer safe for a process's output and concurrent readers.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var _ io.Writer = (*syncBuffer)(nil)
