// Package metrics exports what the router does in Prometheus's format: callbacks by app,
// command, route and decision; latency and fallbacks by reason per app and route; requests
// refused before routing, by code; which of an app's tokens verified each Sign; upstream
// attempts, statuses, retries and query parameters dropped; breaker states and
// transitions; in-flight callbacks and deadlines per route; reloads; the async queue and its
// deliveries; shadow comparisons; trace spans exported and dropped. It observes the request
// path through server.Observer (and ShadowObserver, DeliveryObserver), breaker transitions
// through proxy.StateChangeFunc, and reads the queue, the tables and the tracer's counts at
// scrape time; it decides nothing and serves nothing (package admin serves its registry).
//
// Label values are bounded: commands outside tencent.Catalogue are counted as "other", apps,
// routes and upstreams are the current config's (Install drops the series of those a reload
// removed), statuses and reasons are fixed sets. The label children a callback needs are
// resolved on its first use and cached (internal/lazymap), so recording a callback takes a
// few map lookups under read locks and allocates nothing.
package metrics
