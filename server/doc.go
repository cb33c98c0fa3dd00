// Package server is the callback endpoint: it checks each request in the order the design
// fixes (method, size, app, signature, command), finds its route in the current router.Table,
// forwards it through package proxy or hands it to the delivery queue, and answers Tencent
// with the upstream's bytes or the route's fallback verdict, leaving one log line per
// callback. The HTTP server itself sits behind a small seam (Inbound/Outbound), so the
// connection layer can change without touching the callback logic.
package server
