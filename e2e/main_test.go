package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// binary is the callback-router binary built once for every test in this file; runs holds
// the working directory of each run (its delivery store, ./data by default).
var binary, runs string

func TestMain(m *testing.M) {
	os.Exit(buildAndRun(m))
}

func buildAndRun(m *testing.M) int {
	dir, err := os.MkdirTemp("", "callback-router-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	binary, runs = filepath.Join(dir, "callback-router"), dir
	if err := testutil.Build(binary); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return m.Run()
}

// command returns the binary run with args until ctx ends, in an environment without
// CALLBACK_ROUTER_* variables, so the caller's shell cannot change the config under test.
func command(ctx context.Context, args ...string) *exec.Cmd {
	cmd := testutil.Command(ctx, binary, args...)
	// Each serve works in a directory of its own, so that the default delivery.dir (./data)
	// is never the repository's, nor another run's (bbolt locks it). Other commands read
	// paths relative to the repository.
	if len(args) > 0 && args[0] == "serve" {
		if dir, err := os.MkdirTemp(runs, "run-"); err == nil {
			cmd.Dir = dir
		}
	}
	return cmd
}

// startServe runs `serve -config cfg` with extra arguments and environment variables and
// returns the process's output, its exit error (valid once exited is closed), the exited
// channel and the process; the test ends by killing it if it is still running. It has no
// timeout of its own: the soak runs it for many minutes, and go test's -timeout bounds
// every test.
func startServe(t *testing.T, cfg string, args, env []string) (*syncBuffer, *error, <-chan struct{}, *os.Process) {
	t.Helper()
	logs := &syncBuffer{}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	cmd := command(ctx, append([]string{"serve", "-config", cfg}, args...)...)
	cmd.Env = append(cmd.Env, env...)
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	waitErr := new(error)
	go func() { *waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() { cmd.Process.Kill(); <-exited })
	return logs, waitErr, exited, cmd.Process
}

// syncBuffer collects a child process's output while tests read it.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// freeAddr returns a loopback address that was free a moment ago.
func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return addr
}

func writeFile(t *testing.T, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// waitAccepting polls addr until it accepts a connection, the process exits, or the bound.
func waitAccepting(t *testing.T, addr string, exited <-chan struct{}, logs fmt.Stringer) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			t.Fatalf("router exited before accepting; output:\n%s", logs)
		default:
		}
		if c, err := net.DialTimeout("tcp", addr, 200*time.Millisecond); err == nil {
			c.Close()
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("router did not accept on %s within 15s; output:\n%s", addr, logs)
}

const (
	slowAnswer = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"slow ok"}`
	giftBody   = `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000}}`
)

// TestSIGTERMFinishesInFlightCallback starts the real binary, sends a callback to a slow
// upstream, sends SIGTERM while the upstream is still working, and checks that the callback
// gets the upstream's answer, the process exits 0, and the port is closed afterwards.
func TestSIGTERMFinishesInFlightCallback(t *testing.T) {
	received := make(chan struct{}, 1)
	upstream := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		select {
		case received <- struct{}{}:
		default:
		}
		time.Sleep(400 * time.Millisecond)
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, slowAnswer)
	}))
	defer upstream.Close()

	addr := freeAddr(t)
	cfg := writeFile(t, "config.yaml", fmt.Sprintf(`
server:
  listen: %q
  admin_listen: "127.0.0.1:0"
  shutdown_timeout: 10s
tencent:
  sdk_app_ids: [1400000001]
upstreams:
  slow: {url: %q}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: slow
    deadline: 1500ms
    retries: 0
    fallback: {action: deny, error_code: 102101, error_info: "fallback, not the upstream"}
`, addr, upstream.URL+"/gifts"))

	var logs syncBuffer
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute) // kills a hung router
	defer cancel()
	cmd := command(ctx, "serve", "-config", cfg)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan struct{})
	var waitErr error // set before exited is closed
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill() // a no-op once it has exited
		<-exited
	})
	waitAccepting(t, addr, exited, &logs)

	type result struct {
		status   int
		body     string
		fallback string
		err      error
	}
	done := make(chan result, 1)
	started := time.Now()
	go func() {
		client := &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
		url := "http://" + addr + "/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json"
		resp, err := client.Post(url, "application/json", strings.NewReader(giftBody))
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b), fallback: resp.Header.Get("X-Callback-Fallback"), err: err}
	}()

	// SIGTERM 100 ms after the callback started, and only once the upstream has it, so the
	// signal surely lands while the callback is in flight (the upstream takes 400 ms more).
	select {
	case <-received:
	case r := <-done:
		t.Fatalf("callback answered before reaching the upstream: %+v; output:\n%s", r, &logs)
	case <-time.After(10 * time.Second):
		t.Fatalf("the upstream never received the callback; output:\n%s", &logs)
	}
	time.Sleep(time.Until(started.Add(100 * time.Millisecond)))
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}

	select {
	case r := <-done:
		if r.err != nil {
			t.Fatalf("callback failed: %v; output:\n%s", r.err, &logs)
		}
		if got, want := r.status, http.StatusOK; got != want {
			t.Errorf("status: got %d, want %d", got, want)
		}
		if got, want := r.body, slowAnswer; got != want {
			t.Errorf("body: got %s, want the upstream's %s", got, want)
		}
		if got, want := r.fallback, ""; got != want {
			t.Errorf("X-Callback-Fallback: got %q, want %q", got, want)
		}
	case <-time.After(15 * time.Second):
		t.Fatalf("no answer to the in-flight callback; output:\n%s", &logs)
	}

	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("router exited with %v, want exit status 0; output:\n%s", waitErr, &logs)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("router still running 10s after SIGTERM; output:\n%s", &logs)
	}

	c, err := net.DialTimeout("tcp", addr, time.Second)
	if err == nil {
		c.Close()
		t.Fatalf("a new connection to %s succeeded after the router exited", addr)
	}
	if !errors.Is(err, syscall.ECONNREFUSED) {
		t.Errorf("dial after exit: got %v, want connection refused", err)
	}
	for _, want := range []string{"callback-router started", "shutting down", `"decision":"upstream"`, `"message":"stopped"`} {
		if !strings.Contains(logs.String(), want) {
			t.Errorf("logs do not contain %s:\n%s", want, &logs)
		}
	}
}

// TestBinaryReportsEveryProblem: validate and a start both report all three problems of a
// file in one run, the misspelt key not hiding the others.
func TestBinaryReportsEveryProblem(t *testing.T) {
	cfg := writeFile(t, "three.yaml", `
server: {listen: "127.0.0.1:0", admin_listen: ""}
defaults: {dedline: 1500ms}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: giftz
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 2500ms
`)
	for _, verb := range []string{"validate", "serve"} {
		t.Run(verb, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := command(ctx, verb, "-config", cfg).CombinedOutput()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("%s: got %v, want exit status 1; output:\n%s", verb, err, out)
			}
			for _, want := range []string{"3 problem(s)", "defaults.dedline: unknown key", "routes[0].upstream: ", "routes[1].deadline: "} {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("output does not contain %q:\n%s", want, out)
				}
			}
		})
	}
}

func TestBinaryValidate(t *testing.T) {
	bad := writeFile(t, "bad.yaml", `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: giftz
    deadline: 2s
`)
	// A refused URL's credentials are masked in every message of the refusal.
	credentials := writeFile(t, "credentials.yaml", `
upstreams:
  gifts: {url: "http://user:PASS@127.0.0.1:9001/gifts?api_key=SECRET"}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 2s
`)
	tests := []struct {
		name     string
		config   string
		wantCode int
		want     []string // in the combined output
		notWant  []string
	}{
		{name: "bad config", config: bad, wantCode: 1, want: []string{"routes[0].upstream", "routes[0].deadline"}},
		{name: "credentials in a URL", config: credentials, wantCode: 1,
			want:    []string{"2 problem(s)", `upstreams.gifts.url: "http://…@127.0.0.1:9001/gifts?api_key=…"`, "routes[0].deadline"},
			notWant: []string{"PASS", "SECRET", "user:"}},
		{name: "missing config", config: filepath.Join(t.TempDir(), "absent.yaml"), wantCode: 1, want: []string{"absent.yaml"}},
		{name: "config.yaml", config: "config.yaml", wantCode: 0, want: []string{"ok"}},
		{name: "examples/sidecar.yaml", config: "examples/sidecar.yaml", wantCode: 0, want: []string{"ok"}},
		{name: "examples/edge.yaml", config: "examples/edge.yaml", wantCode: 0, want: []string{"ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			out, err := command(ctx, "validate", "-config", tt.config).CombinedOutput()
			code := 0
			var exit *exec.ExitError
			if errors.As(err, &exit) {
				code = exit.ExitCode()
			} else if err != nil {
				t.Fatal(err)
			}
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code: got %d, want %d; output:\n%s", got, want, out)
			}
			for _, want := range tt.want {
				if !bytes.Contains(out, []byte(want)) {
					t.Errorf("output does not contain %q:\n%s", want, out)
				}
			}
			for _, secret := range tt.notWant {
				if bytes.Contains(out, []byte(secret)) {
					t.Errorf("output contains %q:\n%s", secret, out)
				}
			}
		})
	}
}
