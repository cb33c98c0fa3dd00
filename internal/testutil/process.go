package testutil

import (
	"net"
	"os"
	"os/exec"
	"testing"
	"time"
)

// Process is a child process a test started. Its output is collected in Output; it is
// killed when the test ends if it is still running; and its output is logged then if the
// test failed, so that failure messages need not carry it.
type Process struct {
	*os.Process
	Output *Buffer
	exited chan struct{}
	err    error // the exit error, set before exited is closed
}

// Start starts cmd with its stdout and stderr collected in the Process's Output. It sets no
// timeout of its own: a soak runs a process for many minutes, and go test's -timeout bounds
// every test.
func Start(t testing.TB, cmd *exec.Cmd) *Process {
	t.Helper()
	p := &Process{Output: &Buffer{}, exited: make(chan struct{})}
	cmd.Stdout, cmd.Stderr = p.Output, p.Output
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	p.Process = cmd.Process
	go func() { p.err = cmd.Wait(); close(p.exited) }()
	t.Cleanup(func() {
		p.Kill() // a no-op once it has exited
		<-p.exited
		if t.Failed() {
			t.Logf("output of %s:\n%s", cmd.Path, p.Output)
		}
	})
	return p
}

// Exited is closed once the process has exited.
func (p *Process) Exited() <-chan struct{} { return p.exited }

// Err waits for the process to exit and returns how it did: nil for status 0.
func (p *Process) Err() error {
	<-p.exited
	return p.err
}

// WaitExit waits up to limit for the process to exit and returns how it exited; it fails
// the test if the process is still running then.
func (p *Process) WaitExit(t testing.TB, limit time.Duration) error {
	t.Helper()
	select {
	case <-p.exited:
		return p.err
	case <-time.After(limit):
		t.Fatalf("process %d still running %s later", p.Pid, limit)
		return nil
	}
}

// WaitAccepting polls addr until it accepts a TCP connection. It fails the test if the
// process exits first or WaitLimit passes.
func (p *Process) WaitAccepting(t testing.TB, addr string) {
	t.Helper()
	for deadline := time.Now().Add(WaitLimit); time.Now().Before(deadline); time.Sleep(pollEvery) {
		select {
		case <-p.exited:
			t.Fatalf("process exited (%v) before %s accepted connections", p.err, addr)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
	}
	t.Fatalf("nothing accepted connections on %s within %s", addr, WaitLimit)
}
