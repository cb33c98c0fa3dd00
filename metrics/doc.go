// Package metrics exports what the router does in Prometheus's format: callbacks by command,
// route and decision, latency, fallbacks by reason, upstream attempts, statuses and retries,
// breaker states and transitions, in-flight callbacks per route, reloads and the async
// queue. It observes the request path through server.Observer and breaker transitions
// through proxy.StateChangeFunc; it decides nothing and serves nothing (package admin
// serves its registry).
//
// Label values are bounded: commands outside tencent.Catalogue are counted as "other",
// routes and upstreams are the config's, statuses and reasons are fixed sets. The label
// children a callback needs are resolved once and cached, so recording a callback takes a
// few map lookups under read locks and allocates nothing.
package metrics
