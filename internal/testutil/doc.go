// Package testutil holds what the tests of every package would otherwise each write again:
// a buffer a logger or a child process writes while the test reads it, a bounded wait for a
// condition, a check that a text says what it must and shows no secret, free loopback
// addresses, files in a test's own directory, a router config built key by key, keep-alive
// load on a server that shuts down under it, the resident memory of a process, and the
// callback-router binary built and run as a child process. Loopback upstreams that
// misbehave on demand are upstreamtest's; testutil knows nothing of callbacks. Only tests
// import it.
package testutil
