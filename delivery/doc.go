// Package delivery delivers callbacks in the background, durably: the callbacks of async
// routes, and the fallback verdicts of routes that keep a journal. A callback is stored
// before Tencent gets its answer, then delivered to each upstream its route lists,
// independently, with jittered exponential backoff until it is delivered or older than the
// configured maximum age, when it moves to the dead letters. Delivery is at least once: every
// attempt carries an X-Callback-Event-Id derived from the request, so upstreams can drop
// duplicates.
//
// The names:
//   - Job is one callback to deliver to one upstream; Record is a Job as a backend stores it.
//   - Queue is what the callback handler sees: it takes jobs. Backend is a Queue that stores
//     and delivers them, started and closed by the server.
//   - Bolt is the backend of a single instance, over a BoltStore (one bbolt file on local
//     disk); JetStream is the backend several instances share (NATS JetStream streams).
//     Both deliver the same way, as Options say: after each attempt one decision, the same
//     for both, acknowledges the record, retries it at a later time (Backoff), or buries
//     it as a dead letter.
//   - Manager lists, replays and drops records: a running backend, or a BoltStore opened
//     with OpenBoltOffline while no router runs.
//
// The package knows upstreams only by name, through a Resolver: the route table, which
// reloads replace, is the server's.
package delivery
