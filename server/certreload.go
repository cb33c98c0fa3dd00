package server

import (
	"crypto/tls"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/rs/zerolog"
)

// certCheckEvery spaces the looks at the certificate files: at most one pair of stats per
// second, however many handshakes arrive.
const certCheckEvery = time.Second

// certReloader serves the certificate in server.tls.cert_file and key_file and re-reads
// them when either file changes (a renewal by certbot, cert-manager or a config management
// run), so https never needs a restart for a new certificate. It looks at the files when a
// handshake needs a certificate, at most every certCheckEvery; a pair that does not load
// (a renewal caught half written, a key that does not match) is logged once and the
// previous certificate stays in use.
type certReloader struct {
	certFile, keyFile string
	log               zerolog.Logger

	cert    atomic.Pointer[tls.Certificate]
	checked atomic.Int64 // unix nanoseconds of the last look at the files
	mu      sync.Mutex   // one reload at a time
	stamp   fileStamp    // of the files last loaded or refused; guarded by mu
}

// fileStamp tells file contents apart without reading them.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

// newCertReloader loads the pair, so that a missing or broken file stops the start.
func newCertReloader(certFile, keyFile string, log zerolog.Logger) (*certReloader, error) {
	r := &certReloader{certFile: certFile, keyFile: keyFile, log: log}
	stamp, err := r.stat()
	if err != nil {
		return nil, err
	}
	cert, err := tls.LoadX509KeyPair(certFile, keyFile)
	if err != nil {
		return nil, err
	}
	r.cert.Store(&cert)
	r.stamp = stamp
	r.checked.Store(time.Now().UnixNano())
	return r, nil
}

// get is tls.Config.GetCertificate.
func (r *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	now := time.Now().UnixNano()
	if last := r.checked.Load(); now-last >= int64(certCheckEvery) && r.checked.CompareAndSwap(last, now) {
		r.reload()
	}
	return r.cert.Load(), nil
}

// reload loads the pair again if either file changed since it was last looked at.
func (r *certReloader) reload() {
	r.mu.Lock()
	defer r.mu.Unlock()
	stamp, err := r.stat()
	if err != nil || stamp == r.stamp {
		return // a file being replaced may be missing for a moment; the next look sees it
	}
	r.stamp = stamp
	cert, err := tls.LoadX509KeyPair(r.certFile, r.keyFile)
	if err != nil {
		r.log.Warn().Err(err).Msg("server.tls: the changed certificate files do not load; still serving the previous certificate")
		return
	}
	r.cert.Store(&cert)
	e := r.log.Info().Str("cert_file", r.certFile)
	if cert.Leaf != nil { // parsed by LoadX509KeyPair unless GODEBUG x509keypairleaf=0
		e.Time("not_after", cert.Leaf.NotAfter)
	}
	e.Msg("server.tls: certificate reloaded")
}

func (r *certReloader) stat() (fileStamp, error) {
	c, err := os.Stat(r.certFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("cert_file: %w", err)
	}
	k, err := os.Stat(r.keyFile)
	if err != nil {
		return fileStamp{}, fmt.Errorf("key_file: %w", err)
	}
	return fileStamp{certMod: c.ModTime(), keyMod: k.ModTime(), certSize: c.Size(), keySize: k.Size()}, nil
}
