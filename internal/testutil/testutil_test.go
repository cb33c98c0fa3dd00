package testutil_test

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

// TestConfigParses: what the builder writes is a config the router loads, with every key
// where the builder put it.
func TestConfigParses(t *testing.T) {
	c := testutil.NewConfig("127.0.0.1:18080", "").
		With("server: {shutdown_timeout: 7s}").
		SetYAML("defaults.breaker", "{consecutive_failures: 9, open_for: 3s, half_open_requests: 1}").
		Upstream("gifts", "http://127.0.0.1:9/gifts?api_key=k: v").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: 1200ms}`).
		Route(`{commands: ["*"]}`)
	cfg, err := config.Parse(strings.NewReader(c.String()))
	if err != nil {
		t.Fatalf("config.Parse: %v\n%s", err, c)
	}
	if got, want := cfg.Server.Listen, "127.0.0.1:18080"; got != want {
		t.Errorf("server.listen: got %q, want %q", got, want)
	}
	if got, want := cfg.Server.ShutdownTimeout, 7*time.Second; got != want {
		t.Errorf("server.shutdown_timeout: got %s, want %s", got, want)
	}
	if got, want := cfg.Upstreams["gifts"].URL, "http://127.0.0.1:9/gifts?api_key=k: v"; got != want {
		t.Errorf("upstreams.gifts.url: got %q, want %q", got, want)
	}
	if got, want := len(cfg.Routes), 2; got != want {
		t.Fatalf("routes: got %d, want %d", got, want)
	}
	if got, want := cfg.Routes[0].Commands[0], "Live.CallbackBeforeSendGift"; got != want {
		t.Errorf("routes[0].commands[0]: got %q, want %q", got, want)
	}
	if got, want := c.Listen(), "127.0.0.1:18080"; got != want {
		t.Errorf("Listen(): got %q, want %q", got, want)
	}
	if got := c.Admin(); got != "" {
		t.Errorf("Admin(): got %q, want none", got)
	}
	if got := c.Get("defaults.breaker.consecutive_failures"); got != 9 {
		t.Errorf("Get(defaults.breaker.consecutive_failures): got %v, want 9", got)
	}
}

// TestBufferConcurrentWrites: writes from several goroutines all arrive, none torn.
func TestBufferConcurrentWrites(t *testing.T) {
	var b testutil.Buffer
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 100 {
				b.Write([]byte("line\n"))
			}
		}()
	}
	wg.Wait()
	if got, want := strings.Count(b.String(), "line\n"), 800; got != want {
		t.Errorf("lines: got %d, want %d", got, want)
	}
	if !b.Contains("line") || b.Contains("absent") {
		t.Errorf("Contains does not report what was written")
	}
}

// TestPoll: a condition that comes true ends the wait; one that never does reports false
// once the limit has passed, not before.
func TestPoll(t *testing.T) {
	start := time.Now()
	if !testutil.Poll(time.Second, func() bool { return time.Since(start) > 30*time.Millisecond }) {
		t.Errorf("Poll: got false for a condition that came true")
	}
	start = time.Now()
	if testutil.Poll(50*time.Millisecond, func() bool { return false }) {
		t.Errorf("Poll: got true for a condition that never held")
	}
	if took := time.Since(start); took < 50*time.Millisecond {
		t.Errorf("Poll gave up after %s, before its 50ms limit", took)
	}
}

// errorRecorder is a testing.TB that keeps what Errorf is given.
type errorRecorder struct {
	testing.TB
	errors []string
}

func (r *errorRecorder) Helper() {}

func (r *errorRecorder) Errorf(format string, args ...any) {
	r.errors = append(r.errors, fmt.Sprintf(format, args...))
}

// TestCheckText: one failure for each wanted string missing and each unwanted one present,
// none when the text says what it should.
func TestCheckText(t *testing.T) {
	const text = "200 OK\nX-Request-Id: abc"
	tests := []struct {
		name          string
		want, notWant []string
		wantErrors    int
	}{
		{name: "all there, nothing unwanted", want: []string{"200 OK", "abc"}, notWant: []string{"Sign"}},
		{name: "one missing", want: []string{"200 OK", "deny"}, wantErrors: 1},
		{name: "one unwanted shown", notWant: []string{"abc", "Sign"}, wantErrors: 1},
		{name: "both", want: []string{"deny"}, notWant: []string{"OK"}, wantErrors: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &errorRecorder{TB: t}
			testutil.CheckText(r, "output", text, tt.want, tt.notWant)
			if got := len(r.errors); got != tt.wantErrors {
				t.Errorf("failures: got %d %q, want %d", got, r.errors, tt.wantErrors)
			}
		})
	}
}
