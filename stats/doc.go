// Package stats keeps the live numbers the status page shows: per route, callbacks and
// fallbacks by reason over a sliding window of one-second buckets with a latency histogram
// per bucket (for p50/p99), the last fallbacks with their reasons, the last breaker
// transitions, and for each route that mirrors to a candidate how often the two agreed. It
// observes the request path through server.Observer and breakers through
// proxy.StateChangeFunc; it serves nothing (package admin renders it).
//
// Recording a callback takes a read-locked map lookup and a short per-route lock, and
// allocates nothing: the window is a fixed array of buckets reused as seconds pass.
package stats
