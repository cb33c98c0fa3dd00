//go:build linux

package main

import (
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// The readings the report rests on, taken from real processes: a process group shaped like
// nginx's (a leader and two members), whose CPU grows as it spins and whose members' memory
// is read without the leader's.
func TestGroupReadings(t *testing.T) {
	// The leader spins for a moment, then waits on its two members.
	script := `i=0; while [ $i -lt 300000 ]; do i=$((i+1)); done; sleep 60 & sleep 60 & wait`
	p, err := startProc("group", filepath.Join(t.TempDir(), "group.log"), []string{"sh", "-c", script}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer p.stop(time.Second)

	var members []int
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end); time.Sleep(20 * time.Millisecond) {
		if members = memPids(p.pid, true); len(members) == 2 {
			break
		}
	}
	if len(members) != 2 {
		t.Fatalf("memPids(workers only) = %v, want the leader's two members", members)
	}
	for _, m := range members {
		if m == p.pid {
			t.Errorf("memPids(workers only) = %v holds the leader %d", members, p.pid)
		}
	}
	if got := memPids(p.pid, false); len(got) != 1 || got[0] != p.pid {
		t.Errorf("memPids(leader) = %v, want [%d]", got, p.pid)
	}
	if cpu := groupCPU(p.pid); cpu < 10*time.Millisecond || cpu > time.Minute {
		t.Errorf("groupCPU after spinning = %v, want at least 10ms", cpu)
	}
	rss, hwm, err := groupMem(members)
	if err != nil || rss <= 0 || hwm < rss {
		t.Errorf("groupMem(members) = rss %d, hwm %d, %v; want 0 < rss ≤ hwm", rss, hwm, err)
	}
	if rss1, _, _ := memOf(members[0]); rss1 <= 0 || rss1 >= rss {
		t.Errorf("one member's rss %d, want part of the group's %d", rss1, rss)
	}

	p.stop(time.Second)
	if _, _, err := groupMem([]int{p.pid}); err == nil {
		t.Error("groupMem of a stopped process: nil error")
	}
	if got := groupCPU(p.pid); got != 0 {
		t.Errorf("groupCPU of a stopped group = %v, want 0", got)
	}
	if _, _, err := groupMem(nil); err == nil {
		t.Error("groupMem of no process: nil error")
	}
}

// A process that has exited but is not yet reaped is still in /proc, without memory: reading
// it must fail rather than count zero bytes.
func TestMemOfAnExitedProcess(t *testing.T) {
	cmd := exec.Command("true")
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Wait()
	pid := cmd.Process.Pid
	zombie := false
	for end := time.Now().Add(10 * time.Second); time.Now().Before(end) && !zombie; time.Sleep(10 * time.Millisecond) {
		p, err := procFS.Proc(pid)
		if err != nil {
			t.Fatal(err)
		}
		st, err := p.Stat()
		zombie = err == nil && st.State == "Z"
	}
	if !zombie {
		t.Fatalf("process %d did not exit", pid)
	}
	if rss, hwm, err := memOf(pid); err == nil {
		t.Errorf("memOf(exited process) = %d, %d, nil error; want an error", rss, hwm)
	}
}
