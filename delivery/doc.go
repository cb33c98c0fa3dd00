// Package delivery delivers the callbacks of async routes in the background: the router
// answers Tencent at once, and a bounded queue hands each callback to every upstream the
// route lists, retrying with backoff until it is delivered or too old. This in-memory queue
// loses what it holds if the process dies; it never grows past its bound, so a full queue
// makes the router answer with the route's fallback instead.
package delivery
