// Package delivery delivers callbacks in the background, durably: the callbacks of async
// routes, and the fallback verdicts of routes that keep a journal. A callback is written to
// a store before Tencent gets its answer, then delivered to each upstream its route lists,
// independently, with jittered exponential backoff until it is delivered or older than the
// configured maximum age, when it moves to the dead letters. Delivery is at least once: every
// attempt carries an X-Callback-Event-Id derived from the request, so upstreams can drop
// duplicates.
//
// Two stores sit behind the Engine interface: Bolt, one bbolt file on local disk for a single
// router instance, and JetStream, a NATS stream shared by several instances. MemoryQueue is
// the older, volatile queue, kept for tests and embedding. The package knows upstreams only
// by name, through a resolver: the route table, which reloads replace, is the server's.
package delivery
