package server

import "crypto/tls"

// tlsCipherSuites are the TLS 1.2 suites offered: ECDHE key exchange (forward secrecy) with
// AEAD ciphers only. TLS 1.3's suites are all AEAD and not configurable in Go.
var tlsCipherSuites = []uint16{
	tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
	tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
	tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
	tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
}

// newTLSConfig is the edge listener's TLS: 1.2 and later, the suites above, and only
// HTTP/1.1 offered by ALPN, which is what Tencent speaks (keep-alive, one callback after
// another); neither engine serves HTTP/2 on this listener. Certificates come from
// getCertificate: the files of server.tls (re-read when they change), or the ACME manager,
// for which ALPN also offers acme-tls/1 so that the CA's TLS-ALPN-01 validation can
// complete its handshake (it sends nothing after it).
func newTLSConfig(getCertificate func(*tls.ClientHelloInfo) (*tls.Certificate, error), acmeChallenge bool) *tls.Config {
	protos := []string{"http/1.1"}
	if acmeChallenge {
		protos = append(protos, acmeALPN)
	}
	return &tls.Config{
		MinVersion:       tls.VersionTLS12,
		CipherSuites:     tlsCipherSuites,
		CurvePreferences: []tls.CurveID{tls.X25519MLKEM768, tls.X25519, tls.CurveP256},
		NextProtos:       protos,
		GetCertificate:   getCertificate,
	}
}
