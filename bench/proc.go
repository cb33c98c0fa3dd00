//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
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

// countLines counts the lines of a log that match, one line at a time (logs of a 10 s run at
// saturation are hundreds of megabytes; every log the bench reads has one line per callback).
func countLines(path string, match func(line []byte) bool) (int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return -1, err
	}
	defer f.Close()
	var n int64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		if match(sc.Bytes()) {
			n++
		}
	}
	if err := sc.Err(); err != nil {
		return -1, fmt.Errorf("%s: %w", path, err)
	}
	return n, nil
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

// startServer starts a server (startProc) and waits until it listens on addr; one that does
// not in 10 s is stopped.
func startServer(ctx context.Context, name, logPath string, argv, env []string, addr string) (*proc, error) {
	p, err := startProc(name, logPath, argv, env)
	if err != nil {
		return nil, err
	}
	if err := waitTCP(ctx, addr, p, 10*time.Second); err != nil {
		p.stop(3 * time.Second)
		return nil, err
	}
	return p, nil
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
