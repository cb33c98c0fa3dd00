// Package acmetest runs the router's automatic certificates (server.tls.acme) end to end:
// the real binary against Pebble, Let's Encrypt's ACME test server, started in the test's
// own process on loopback with a DNS server that resolves the test's domain to 127.0.0.1.
// Pebble lives in this module, not the router's: the router's binary never links it.
package acmetest
