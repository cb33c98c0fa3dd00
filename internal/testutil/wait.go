package testutil

import (
	"testing"
	"time"
)

// WaitLimit bounds Eventually. It is long because the machine running the tests may be
// shared and slow; a condition that holds ends the wait at once.
const WaitLimit = 15 * time.Second

// pollEvery is how often a wait looks again.
const pollEvery = 10 * time.Millisecond

// Eventually polls cond until it holds and fails the test, naming what it waited for, if it
// does not within WaitLimit.
func Eventually(t testing.TB, what string, cond func() bool) {
	t.Helper()
	if !Poll(WaitLimit, cond) {
		t.Fatalf("timed out after %s waiting for %s", WaitLimit, what)
	}
}

// Poll polls cond until it holds or limit passes, and reports whether it held. It is for a
// wait whose failure the caller describes itself (what is still missing, say).
func Poll(limit time.Duration, cond func() bool) bool {
	for deadline := time.Now().Add(limit); !cond(); time.Sleep(pollEvery) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
