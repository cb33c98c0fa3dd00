// Package e2e tests the callback-router binary as operators run it: built once from the
// module's root, started as a child process on loopback configs, signalled, killed and
// restarted, and asked over HTTP what it did. Each test's router runs in a directory of its
// own; paths on the command line (examples/…) are relative to the module's root. The soak
// (soak_test.go) is opt-in: go test -tags soak -run TestSoak -timeout 30m -v ./e2e/
package e2e
