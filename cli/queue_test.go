package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// seedDeadLetters stores n callbacks in dir and moves them to the dead letters, as a router
// does after delivery.max_age.
func seedDeadLetters(t *testing.T, dir string, commands ...string) {
	t.Helper()
	s, err := delivery.OpenBoltStore(delivery.BoltOptions{Dir: dir, MaxItems: 100, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for i, cmd := range commands {
		body := []byte(fmt.Sprintf(`{"n":%d}`, i))
		added, err := s.Append(context.Background(), []*delivery.Record{{EventID: delivery.EventID(cmd, "", body), Upstream: "audit",
			Command: cmd, Body: body, Received: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		added[0].DeadAt, added[0].Attempts, added[0].LastError = time.Now(), 9, "upstream_error, status 503"
		if err := s.Bury(added[0]); err != nil {
			t.Fatal(err)
		}
	}
}

// queueConfig routes every command to audit, async, through the bbolt store in dir, with the
// admin listener at admin ("": none).
func queueConfig(dir, admin string) string {
	return queueConfigWith(admin, fmt.Sprintf("{dir: %q}", dir))
}

// queueConfigWith is queueConfig with the delivery section of the caller's.
func queueConfigWith(admin, delivery string) string {
	return fmt.Sprintf(`
server: {admin_listen: %q}
upstreams:
  audit: {url: "http://127.0.0.1:9003/events"}
routes:
  - commands: ["*"]
    upstream: audit
    async: true
delivery: %s
`, admin, delivery)
}

// TestQueueCommandOffline: with no router running, the command opens the store itself.
func TestQueueCommandOffline(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	seedDeadLetters(t, dir, "Live.CallbackAfterEndBattle", "Mic.CallbackAfterSeatInfoChanged", "Live.CallbackAfterCreateRoom")
	cfg := testutil.WriteFile(t, "config.yaml", queueConfig(dir, ""))
	steps := []struct {
		name     string
		args     []string
		wantCode int
		want     string
	}{
		{name: "stats", args: []string{"stats"}, want: `"dead": 3`},
		{name: "list dead by command", args: []string{"list", "-command", "Live.*"}, want: "2 dead record(s)"},
		{name: "replay needs a filter", args: []string{"replay"}, wantCode: ExitUsage},
		{name: "replay by command", args: []string{"replay", "-command", "Mic.*"}, want: "replayed 1 "},
		{name: "replay again replays nothing", args: []string{"replay", "-command", "Mic.*"}, want: "replayed 0 "},
		{name: "pending now holds it", args: []string{"list", "-state", "pending"}, want: "Mic.CallbackAfterSeatInfoChanged"},
		{name: "drop by id", args: []string{"drop", "-id", "1"}, want: "dropped 1 dead"},
		{name: "bad time", args: []string{"list", "-from", "yesterday"}, wantCode: ExitUsage},
		{name: "stats at the end", args: []string{"stats"}, want: `"pending": 1`},
	}
	for _, st := range steps {
		code, out, errOut := run(t, append([]string{"queue", st.args[0], "-config", cfg}, st.args[1:]...)...)
		if code != st.wantCode {
			t.Fatalf("%s: exit %d, want %d; stderr: %s", st.name, code, st.wantCode, errOut)
		}
		if !strings.Contains(out, st.want) {
			t.Errorf("%s: output lacks %q:\n%s", st.name, st.want, out)
		}
	}
}

// serveQueueAdmin opens the store in dir, as a running router would (holding its lock), and
// serves the admin listener's queue paths over it, requiring token when set; it returns the
// listener's address. Both close when the test ends.
func serveQueueAdmin(t *testing.T, dir, token string) string {
	t.Helper()
	d, err := delivery.OpenBolt(delivery.BoltOptions{Dir: dir, MaxItems: 100, MaxBytes: 1 << 20},
		delivery.Options{Workers: 1, MaxAge: time.Hour, AttemptDeadline: time.Second,
			Backoff: delivery.Backoff{Initial: 200 * time.Millisecond, Max: time.Minute}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	srv := httptest.NewServer(admin.New(admin.Options{Deliveries: d, Token: token}).Handler())
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// TestQueueCommandThroughAdmin: a running router holds the store locked; the command goes
// through its admin listener instead.
func TestQueueCommandThroughAdmin(t *testing.T) {
	isolate(t)
	dir := t.TempDir()
	seedDeadLetters(t, dir, "Live.CallbackAfterEndBattle", "Live.CallbackAfterEndBattle")
	adminAddr := serveQueueAdmin(t, dir, "")

	locked := testutil.WriteFile(t, "config.yaml", queueConfig(dir, ""))
	start := time.Now()
	code, _, errOut := run(t, "queue", "stats", "-config", locked)
	if code != ExitError || !strings.Contains(errOut, "server.admin_listen") {
		t.Errorf("locked store without admin: exit %d, stderr %q; want an error naming server.admin_listen", code, errOut)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("locked store: the command took %s, want it to give up after a few seconds", d)
	}

	cfg := testutil.WriteFile(t, "config.yaml", queueConfig(dir, adminAddr))
	for _, st := range []struct{ args, want string }{
		{"list", "2 dead record(s)"},
		{"replay -all", "replayed 2 "},
		{"replay -all", "replayed 0 "},
		{"stats", `"dead": 0`},
		{"drop -state pending -all", "dropped 2 pending"},
		{"stats", `"pending": 0`},
	} {
		args := strings.Fields(st.args)
		code, out, errOut := run(t, append([]string{"queue", args[0], "-config", cfg}, args[1:]...)...)
		if code != ExitOK || !strings.Contains(out, st.want) {
			t.Errorf("queue %s: exit %d, output %q (stderr %q), want %q", st.args, code, out, errOut, st.want)
		}
	}

	// The store is locked but nothing answers on the admin address: stats must fail, not
	// print an empty queue.
	unreachable := testutil.WriteFile(t, "config.yaml", queueConfig(dir, upstreamtest.DeadAddr(t)))
	if code, out, errOut := run(t, "queue", "stats", "-config", unreachable); code != ExitError || strings.Contains(out, `"pending"`) {
		t.Errorf("queue stats with the admin listener down: exit %d, output %q (stderr %q); want an error and no figures", code, out, errOut)
	}
}

// TestQueueCommandWithoutStore: a delivery.dir that holds no store (a relative one resolved
// from another working directory than the router's) is an error naming where it looked, and
// the command creates nothing there: an empty store would report an empty queue.
func TestQueueCommandWithoutStore(t *testing.T) {
	isolate(t)
	dir := filepath.Join(t.TempDir(), "data")
	cfg := testutil.WriteFile(t, "config.yaml", queueConfig(dir, ""))
	for _, action := range []string{"stats", "list"} {
		code, out, errOut := run(t, "queue", action, "-config", cfg)
		if code != ExitError || strings.Contains(out, `"pending"`) || strings.Contains(out, "record(s)") {
			t.Errorf("queue %s without a store: exit %d, output %q; want an error and no figures", action, code, out)
		}
		if want := filepath.Join(dir, delivery.BoltFile); !strings.Contains(errOut, want) {
			t.Errorf("queue %s without a store: stderr %q, want it to name %s", action, errOut, want)
		}
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("queue without a store created %s (stat: %v); want nothing created", dir, err)
	}
}
