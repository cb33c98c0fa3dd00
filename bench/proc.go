//go:build linux

package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Processes: every process the bench starts runs in its own process group (so nginx's workers
// and go build's compilers go with their leader), dies with the bench (Pdeathsig), and is
// registered until stopped, so that an error or Ctrl-C stops them all (stopAll). Every wait is
// bounded.

// clockTicks is USER_HZ, the unit of utime and stime in /proc/<pid>/stat: 100 on every Linux
// architecture Go supports (sysconf(_SC_CLK_TCK) needs cgo; this is the value it returns).
const clockTicks = 100

// proc is a long-running child: the stub, nginx or the router.
type proc struct {
	name    string
	cmd     *exec.Cmd
	pid     int // also the process group id
	logPath string
	done    chan struct{} // closed when the leader has exited
	waitErr error
}

var (
	procsMu sync.Mutex
	procs   = map[*proc]bool{}
)

// startProc starts argv in a new process group with stdout and stderr appended to logPath,
// in logPath's directory: the run's own, removed after the run, so that what a process
// writes at relative paths (the router's delivery store, ./data) goes with it. env nil means
// the bench's environment.
func startProc(name, logPath string, argv, env []string) (*proc, error) {
	logf, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return nil, err
	}
	defer logf.Close() // the child has its own descriptor
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.Dir = filepath.Dir(logPath)
	cmd.Env = env
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start %s: %w", name, err)
	}
	p := &proc{name: name, cmd: cmd, pid: cmd.Process.Pid, logPath: logPath, done: make(chan struct{})}
	procsMu.Lock()
	procs[p] = true
	procsMu.Unlock()
	go func() {
		p.waitErr = cmd.Wait()
		close(p.done)
	}()
	return p, nil
}

func (p *proc) exited() bool {
	select {
	case <-p.done:
		return true
	default:
		return false
	}
}

// stop sends SIGTERM to the process group, waits up to grace for the leader, then SIGKILLs
// whatever is left of the group, waiting at most 2 s more.
func (p *proc) stop(grace time.Duration) {
	if !p.exited() {
		_ = syscall.Kill(-p.pid, syscall.SIGTERM)
		select {
		case <-p.done:
		case <-time.After(grace):
			fmt.Fprintf(os.Stderr, "bench: %s (pid %d) did not stop in %v after SIGTERM; killing it\n", p.name, p.pid, grace)
		}
	}
	// Members of the group may outlive the leader (nginx workers if the master was killed).
	_ = syscall.Kill(-p.pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(2 * time.Second):
		fmt.Fprintf(os.Stderr, "bench: %s (pid %d) still running after SIGKILL\n", p.name, p.pid)
	}
	procsMu.Lock()
	delete(procs, p)
	procsMu.Unlock()
}

// stopAll stops every process still registered (on error or interrupt).
func stopAll() {
	procsMu.Lock()
	var all []*proc
	for p := range procs {
		all = append(all, p)
	}
	procsMu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Add(1)
		go func() { defer wg.Done(); p.stop(3 * time.Second) }()
	}
	wg.Wait()
}

// logTail returns the last lines of the process's log, for error messages.
func (p *proc) logTail(n int) string {
	b, err := os.ReadFile(p.logPath)
	if err != nil {
		return ""
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// countInFile counts the occurrences of each pattern in a file, reading it in chunks (logs
// of a 10 s run at saturation are hundreds of megabytes).
func countInFile(path string, patterns ...string) ([]int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	longest := 0
	for _, p := range patterns {
		longest = max(longest, len(p))
	}
	counts := make([]int64, len(patterns))
	buf := make([]byte, 0, 1<<20+longest)
	carry := 0 // bytes kept from the previous chunk, so a pattern across chunks is seen once
	for i := 0; i < 1<<24; i++ {
		n, err := f.Read(buf[carry:cap(buf)])
		data := buf[:carry+n]
		if n > 0 {
			for j, p := range patterns {
				// Count only matches that end in the new bytes; the others were counted.
				counts[j] += int64(countEndingAfter(data, []byte(p), carry))
			}
			carry = min(longest-1, len(data))
			copy(buf[:carry], data[len(data)-carry:])
		}
		if err == io.EOF {
			return counts, nil
		}
		if err != nil {
			return nil, err
		}
	}
	return nil, fmt.Errorf("%s: too large to count", path)
}

// countEndingAfter counts the occurrences of p in data that end after offset from.
func countEndingAfter(data, p []byte, from int) int {
	n := 0
	for i := 0; ; {
		j := bytes.Index(data[i:], p)
		if j < 0 {
			return n
		}
		if i+j+len(p) > from {
			n++
		}
		i += j + 1
	}
}

// runCmd runs a short command (go build, nginx -t, validate, wrk) in its own process group,
// killing the group when ctx ends or timeout passes. It returns stdout and stderr.
func runCmd(ctx context.Context, timeout time.Duration, dir string, env []string, argv ...string) (string, string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Dir = dir
	cmd.Env = env
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	cmd.WaitDelay = 2 * time.Second
	err := cmd.Run()
	if err != nil && ctx.Err() == context.DeadlineExceeded {
		err = fmt.Errorf("%s: gave up after %v: %w", filepath.Base(argv[0]), timeout, err)
	}
	return stdout.String(), stderr.String(), err
}

// freePort returns a loopback port that was free a moment ago (bound, then closed).
func freePort() (int, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func freeAddr() (string, error) {
	port, err := freePort()
	if err != nil {
		return "", err
	}
	return "127.0.0.1:" + strconv.Itoa(port), nil
}

// waitTCP waits until addr accepts connections, p exits, or timeout passes.
func waitTCP(ctx context.Context, addr string, p *proc, timeout time.Duration) error {
	end := time.Now().Add(timeout)
	for i := 0; time.Now().Before(end); i++ {
		c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond)
		if err == nil {
			c.Close()
			return nil
		}
		if p != nil && p.exited() {
			return fmt.Errorf("%s exited before listening on %s (%v); its log ends:\n%s", p.name, addr, p.waitErr, p.logTail(15))
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	tail := ""
	if p != nil {
		tail = "; its log ends:\n" + p.logTail(15)
	}
	return fmt.Errorf("nothing listens on %s after %v%s", addr, timeout, tail)
}

// raiseNoFile raises RLIMIT_NOFILE to its hard limit; the children inherit it.
func raiseNoFile() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, err
	}
	if lim.Cur < lim.Max {
		lim.Cur = lim.Max
		if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
			return 0, err
		}
	}
	return lim.Cur, nil
}

// ---- /proc ----

// procStat is what the bench needs from /proc/<pid>/stat.
type procStat struct {
	pid, ppid, pgrp int
	utime, stime    uint64 // clock ticks
}

// parseStat parses one /proc/<pid>/stat line. The command name (field 2) is in parentheses
// and may itself contain spaces and parentheses, so fields are counted from the last ')'.
func parseStat(line string) (procStat, error) {
	var st procStat
	open, close := strings.IndexByte(line, '('), strings.LastIndexByte(line, ')')
	if open < 0 || close < open {
		return st, fmt.Errorf("malformed stat line %q", line)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(line[:open]))
	if err != nil {
		return st, fmt.Errorf("malformed pid in stat line: %w", err)
	}
	// After ')': state(3) ppid(4) pgrp(5) session(6) tty_nr(7) tpgid(8) flags(9) minflt(10)
	// cminflt(11) majflt(12) cmajflt(13) utime(14) stime(15) ...
	f := strings.Fields(line[close+1:])
	if len(f) < 13 {
		return st, fmt.Errorf("stat line has %d fields after the command, want at least 13", len(f))
	}
	st.pid = pid
	nums := []*int{&st.ppid, &st.pgrp}
	for i, dst := range nums {
		if *dst, err = strconv.Atoi(f[1+i]); err != nil {
			return st, fmt.Errorf("stat field %d: %w", 4+i, err)
		}
	}
	if st.utime, err = strconv.ParseUint(f[11], 10, 64); err != nil {
		return st, fmt.Errorf("stat utime: %w", err)
	}
	if st.stime, err = strconv.ParseUint(f[12], 10, 64); err != nil {
		return st, fmt.Errorf("stat stime: %w", err)
	}
	return st, nil
}

func readStat(pid int) (procStat, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return procStat{}, err
	}
	return parseStat(string(b))
}

// groupStats returns the stat of every live process in process group pgid.
func groupStats(pgid int) []procStat {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []procStat
	for _, e := range ents {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		st, err := readStat(pid)
		if err != nil || st.pgrp != pgid {
			continue
		}
		out = append(out, st)
	}
	return out
}

// groupCPU returns the CPU time (user + system) used so far by the live processes of group
// pgid. Every process the bench measures is long-lived (nginx workers included), so a
// difference of two readings is the CPU used in between.
func groupCPU(pgid int) time.Duration {
	var ticks uint64
	for _, st := range groupStats(pgid) {
		ticks += st.utime + st.stime
	}
	return time.Duration(ticks) * time.Second / clockTicks
}

// parseStatusKB returns the value of a "Key:   1234 kB" line of /proc/<pid>/status, in bytes.
func parseStatusKB(status, key string) (int64, error) {
	for line := range strings.SplitSeq(status, "\n") {
		name, rest, ok := strings.Cut(line, ":")
		if !ok || name != key {
			continue
		}
		f := strings.Fields(rest)
		if len(f) != 2 || f[1] != "kB" {
			return 0, fmt.Errorf("malformed %s line %q", key, line)
		}
		kb, err := strconv.ParseInt(f[0], 10, 64)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", key, err)
		}
		return kb * 1024, nil
	}
	return 0, fmt.Errorf("no %s line", key)
}

// memOf returns the current (VmRSS) and peak (VmHWM) resident set of a process, in bytes.
func memOf(pid int) (rss, hwm int64, err error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	if rss, err = parseStatusKB(string(b), "VmRSS"); err != nil {
		return 0, 0, err
	}
	if hwm, err = parseStatusKB(string(b), "VmHWM"); err != nil {
		return 0, 0, err
	}
	return rss, hwm, nil
}

// resetPeak resets a process's VmHWM to its current RSS (Linux ≥ 4.0).
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// memPids returns the processes whose memory counts for a measured process group: the
// leader alone, or for nginx (workersOnly) every member but the master.
func memPids(pgid int, workersOnly bool) []int {
	if !workersOnly {
		return []int{pgid}
	}
	var out []int
	for _, st := range groupStats(pgid) {
		if st.pid != pgid {
			out = append(out, st.pid)
		}
	}
	return out
}

// groupMem sums VmRSS and VmHWM over pids. It fails when any process cannot be read.
func groupMem(pids []int) (rss, hwm int64, err error) {
	if len(pids) == 0 {
		return 0, 0, errors.New("no process to measure")
	}
	for _, pid := range pids {
		r, h, err := memOf(pid)
		if err != nil {
			return 0, 0, err
		}
		rss += r
		hwm += h
	}
	return rss, hwm, nil
}
