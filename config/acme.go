package config

import (
	"fmt"
	"net"
	"net/url"
	"path/filepath"
	"strings"
	"time"

	"github.com/callback-router/callback-router/redact"
)

// LetsEncryptDirectory is server.tls.acme.ca by default: Let's Encrypt's production ACME
// directory.
const LetsEncryptDirectory = "https://acme-v02.api.letsencrypt.org/directory"

// ACME has the router obtain and renew its https certificate itself from an ACME CA (Let's
// Encrypt by default), proving control of each domain with the TLS-ALPN-01 challenge on the
// callback listener, as Caddy does. Setting domains turns it on; it excludes cert_file and
// key_file. Using it accepts the CA's subscriber agreement.
type ACME struct {
	// Domains are the names on the certificate: the host of the console's callback URL. The
	// CA connects to each on port 443, which must reach server.listen.
	Domains []string `mapstructure:"domains"`
	// Email is given to the CA, which writes to it about expiring certificates and problems
	// with the account. Optional.
	Email string `mapstructure:"email"`
	// CA is the ACME directory URL.
	CA string `mapstructure:"ca"`
	// Dir caches the account key, certificates and their keys across restarts, so that a
	// restart does not ask the CA again (CAs limit how often they issue). Default: the
	// directory "acme" under delivery.dir, which is already on a persistent volume.
	Dir string `mapstructure:"dir"`
	// RenewInterval is how often the certificates are checked for renewal (renewal starts
	// when a third of a certificate's lifetime is left, or when the CA's renewal
	// information says so). Caddy's renew_interval; default 10m.
	RenewInterval time.Duration `mapstructure:"renew_interval"`
}

// Enabled tells whether the router manages its certificate through ACME.
func (a ACME) Enabled() bool { return len(a.Domains) > 0 }

// CacheDir is Dir, else "acme" under the delivery directory.
func (a ACME) CacheDir(deliveryDir string) string {
	if a.Dir != "" {
		return a.Dir
	}
	return filepath.Join(deliveryDir, "acme")
}

// isSet tells whether any acme key was given a value other than its default.
func (a ACME) isSet() bool {
	return len(a.Domains) > 0 || a.Email != "" || a.Dir != "" || (a.CA != "" && a.CA != LetsEncryptDirectory)
}

func (c *Config) validateACME(p *problems) {
	t := c.Server.TLS
	a := t.ACME
	if !a.isSet() {
		return
	}
	if t.CertFile != "" || t.KeyFile != "" {
		p.add("server.tls.acme", "set either acme (the router gets its certificate itself) or cert_file and key_file, not both")
	}
	if len(a.Domains) == 0 {
		p.add("server.tls.acme.domains", "name at least one domain: the host of the console's callback URL")
	}
	seen := map[string]bool{}
	for i, d := range a.Domains {
		key := fmt.Sprintf("server.tls.acme.domains[%d]", i)
		switch {
		case strings.HasPrefix(d, "*."):
			p.add(key, "%q: a wildcard cannot be proved with TLS-ALPN-01; name the host itself", d)
		case net.ParseIP(d) != nil:
			p.add(key, "%q is an IP address; name the DNS name Tencent posts to", d)
		case !hostName.MatchString(d) || !strings.Contains(strings.Trim(d, "."), "."):
			p.add(key, "%q is not a fully qualified domain name such as callbacks.example.com", d)
		case seen[strings.ToLower(d)]:
			p.add(key, "%q is listed twice", d)
		}
		seen[strings.ToLower(d)] = true
	}
	if a.Email != "" && (!strings.Contains(a.Email, "@") || strings.ContainsAny(a.Email, " \t<>")) {
		p.add("server.tls.acme.email", "%q is not an email address", a.Email)
	}
	if u, err := url.Parse(a.CA); err != nil || u.Scheme != "https" || u.Host == "" {
		p.add("server.tls.acme.ca", "%q is not an https:// ACME directory URL (default %s)", redact.URL(a.CA), LetsEncryptDirectory)
	}
	if a.RenewInterval <= 0 {
		p.add("server.tls.acme.renew_interval", "must be positive (the default is 10m)")
	}
}
