// Package server is the callback endpoint. It checks each request in a fixed order
// (TestChecksInOrder): source address, path, method, size, an ambiguous query; the app and
// its Sign (for a TRTC event, recognised by its body: the app its SdkAppId header names and
// the TRTC Sign); the body (UTF-8, nesting depth); the command. It then finds the route in
// the current router.Table, forwards the callback through package proxy or hands it to the
// delivery backend (async routes; a journaled route's fallback verdicts), mirrors it to the
// route's shadow candidate if it has one, and answers Tencent with the upstream's bytes or
// the route's fallback verdict, leaving one log line per callback. The HTTP layer (the "engine": fasthttp or
// net/http, as server.engine says) sits behind a small seam (Inbound/Outbound), so the
// connection layer can change without touching the callback logic.
package server
