// Package testutil holds what the tests of every package would otherwise each write again:
// a buffer a logger or a child process writes while the test reads it, a bounded wait for a
// condition, free loopback addresses, files in a test's own directory, a router config built
// key by key, and the callback-router binary built and run as a child process. Loopback
// upstreams that misbehave on demand are upstreamtest's; testutil knows nothing of callbacks.
// Only tests import it.
package testutil
