package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strconv"

	"github.com/caddyserver/certmagic"
	"github.com/mholt/acmez/v3"
	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/logging"
)

// acmeCerts obtains and renews the callback listener's certificate from an ACME CA with
// certmagic (Caddy's certificate manager), proving control of each domain with the
// TLS-ALPN-01 challenge on the callback listener itself: no second port. The certificate,
// its key and the ACME account live in the cache directory, so a restart serves the cached
// certificate without asking the CA again.
type acmeCerts struct {
	domains []string
	magic   *certmagic.Config
	cache   *certmagic.Cache
	cancel  context.CancelFunc
}

// newACMECerts prepares the manager; nothing talks to the CA before start. listen is the
// callback listener's address, where the CA's TLS-ALPN-01 connections arrive.
func newACMECerts(a config.ACME, cacheDir, listen string, log zerolog.Logger) (*acmeCerts, error) {
	host, portText, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", listen, err)
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: the port is not a number", listen)
	}
	zl := logging.Zap(log.With().Str("component", "acme").Logger())
	m := &acmeCerts{domains: a.Domains}
	m.cache = certmagic.NewCache(certmagic.CacheOptions{
		GetConfigForCert:   func(certmagic.Certificate) (*certmagic.Config, error) { return m.magic, nil },
		RenewCheckInterval: a.RenewInterval,
		Logger:             zl,
	})
	m.magic = certmagic.New(m.cache, certmagic.Config{
		Storage: &certmagic.FileStorage{Path: cacheDir},
		Logger:  zl,
	})
	m.magic.Issuers = []certmagic.Issuer{certmagic.NewACMEIssuer(m.magic, certmagic.ACMEIssuer{
		CA:     a.CA,
		Email:  a.Email,
		Agreed: true, // setting server.tls.acme accepts the CA's subscriber agreement (README)
		// Only TLS-ALPN-01, answered by this listener's GetCertificate: certmagic tries to
		// bind the listener's own address for a challenge server of its own, finds it taken
		// by the router and leaves the challenge to it.
		DisableHTTPChallenge: true,
		ListenHost:           host,
		AltTLSALPNPort:       port,
		Logger:               zl,
	})}
	return m, nil
}

// start loads the cached certificate or obtains one, in the background (the listener must
// already be serving, to answer the challenge), and keeps it renewed until stop. Failures
// are logged and retried with backoff by certmagic.
func (m *acmeCerts) start() error {
	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	if err := m.magic.ManageAsync(ctx, m.domains); err != nil {
		cancel()
		return fmt.Errorf("server.tls.acme: %w", err)
	}
	return nil
}

// stop ends renewals and retries.
func (m *acmeCerts) stop() {
	if m.cancel != nil {
		m.cancel()
	}
	m.cache.Stop()
}

// getCertificate is tls.Config.GetCertificate: the managed certificate for the SNI name, or
// the challenge certificate when the CA's validator asks with ALPN acme-tls/1.
func (m *acmeCerts) getCertificate(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
	return m.magic.GetCertificate(hello)
}

// acmeALPN is the ALPN protocol of the TLS-ALPN-01 challenge (RFC 8737).
const acmeALPN = acmez.ACMETLS1Protocol
