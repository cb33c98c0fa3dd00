package delivery

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// testBolt is a Bolt backend over a temporary store, delivering to loopback upstreams.
type testBolt struct {
	*Bolt
	ups map[string]*proxy.Upstream
}

func startBolt(t *testing.T, dir string, maxAge time.Duration, ups map[string]string) *testBolt {
	t.Helper()
	e := &testBolt{ups: map[string]*proxy.Upstream{}}
	for name, url := range ups {
		up, err := proxy.New(proxy.Spec{Name: name, URLs: []string{url}, MaxConns: 64, MaxResponseBytes: 1 << 20,
			Breaker: proxy.BreakerSettings{ConsecutiveFailures: 1000, OpenFor: time.Second, HalfOpenRequests: 1}})
		if err != nil {
			t.Fatal(err)
		}
		e.ups[name] = up
	}
	d, err := OpenBolt(BoltOptions{Dir: dir, MaxItems: 10000, MaxBytes: 1 << 30},
		Options{Workers: 4, MaxAge: maxAge, AttemptDeadline: time.Second,
			Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Logger: zerolog.Nop()})
	if err != nil {
		t.Fatal(err)
	}
	e.Bolt = d
	d.Start(func(name string) *proxy.Upstream { return e.ups[name] }, nil)
	t.Cleanup(func() { d.Close(context.Background()) })
	return e
}

func (e *testBolt) job(upstream, body string) Job {
	return Job{Upstream: e.ups[upstream], Route: "after", Command: "Live.CallbackAfterEndBattle", Body: []byte(body),
		RawQuery: "SdkAppid=1", RequestID: "rid-" + body, Received: time.Now(),
		EventID: EventID("Live.CallbackAfterEndBattle", "SdkAppid=1", []byte(body)), OrderKey: OrderKey([]byte(body))}
}

// TestBoltRetriesUntilDelivered: a failing upstream gets the callback again, with the same
// event id, until it accepts it; the store is then empty.
func TestBoltRetriesUntilDelivered(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.FailFirst(5, http.StatusServiceUnavailable, upstreamtest.OK()))
	e := startBolt(t, t.TempDir(), time.Hour, map[string]string{"audit": up.URL})
	j := e.job("audit", `{"BattleId":"b1"}`)
	if !e.Enqueue(context.Background(), j) {
		t.Fatal("Enqueue refused")
	}
	testutil.Eventually(t, "delivery", func() bool { return e.Stats().Delivered == 1 })
	reqs := up.Requests()
	if got, want := len(reqs), 6; got != want {
		t.Errorf("upstream got %d requests, want %d (5 failures, then the delivery)", got, want)
	}
	for i, r := range reqs {
		if got := r.Header.Get(HeaderEventID); got != j.EventID {
			t.Errorf("request %d: %s %q, want %q", i+1, HeaderEventID, got, j.EventID)
		}
		if string(r.Body) != `{"BattleId":"b1"}` || r.RawQuery != "SdkAppid=1" {
			t.Errorf("request %d: body %s query %q, want the callback's", i+1, r.Body, r.RawQuery)
		}
	}
	testutil.Eventually(t, "an empty store", func() bool { return e.Stats().Pending == 0 })
}

// TestBoltDeadLettersWhenTooOld: past max_age a callback moves to the dead letters.
func TestBoltDeadLettersWhenTooOld(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
	e := startBolt(t, t.TempDir(), 300*time.Millisecond, map[string]string{"audit": up.URL})
	e.Enqueue(context.Background(), e.job("audit", `{"BattleId":"b1"}`))
	testutil.Eventually(t, "a dead letter", func() bool { return e.Stats().DeadAdded == 1 })
	dead, err := e.List(StateDead, Filter{})
	if err != nil || len(dead) != 1 {
		t.Fatalf("dead letters: %v, %v; want one", dead, err)
	}
	if dead[0].Attempts < 1 || !strings.Contains(dead[0].LastError, "503") || dead[0].DeadAt.IsZero() {
		t.Errorf("dead letter %+v: want its attempts, the last error (503) and when it died", dead[0])
	}
	if got := e.Stats().Pending; got != 0 {
		t.Errorf("pending = %d, want 0", got)
	}
	// Replay, with the upstream back: delivered.
	up.Set(upstreamtest.OK())
	if n, err := e.Replay(Filter{}); err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1", n, err)
	}
	testutil.Eventually(t, "the replayed delivery", func() bool { return e.Stats().Delivered == 1 })
	if n, _ := e.Replay(Filter{}); n != 0 {
		t.Errorf("second Replay replayed %d, want 0", n)
	}
}

// TestBoltOrderPerRoom: with an order key, a room's callbacks reach the upstream in
// arrival order even when the first fails a few times; other rooms are not held back.
func TestBoltOrderPerRoom(t *testing.T) {
	var mu sync.Mutex
	seen := map[string][]string{}
	up := upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		body := r.Header.Get("X-Request-Id")
		if strings.HasPrefix(body, `rid-{"RoomId":"a","n":0`) && n%3 != 0 {
			w.WriteHeader(http.StatusServiceUnavailable) // the room's first callback fails at first
			return
		}
		room := OrderKey([]byte(strings.TrimPrefix(body, "rid-")))
		mu.Lock()
		seen[room] = append(seen[room], strings.TrimPrefix(body, "rid-"))
		mu.Unlock()
		upstreamtest.OK()(w, r, n)
	})
	e := startBolt(t, t.TempDir(), time.Hour, map[string]string{"audit": up.URL})
	const perRoom = 20
	for i := range perRoom {
		for _, room := range []string{"a", "b"} {
			if !e.Enqueue(context.Background(), e.job("audit", fmt.Sprintf(`{"RoomId":%q,"n":%d}`, room, i))) {
				t.Fatal("Enqueue refused")
			}
		}
	}
	testutil.Eventually(t, "every delivery", func() bool { return e.Stats().Delivered == 2*perRoom })
	mu.Lock()
	defer mu.Unlock()
	for _, room := range []string{"a", "b"} {
		got := seen[room]
		if len(got) != perRoom {
			t.Fatalf("room %s: %d deliveries, want %d", room, len(got), perRoom)
		}
		for i, body := range got {
			if want := fmt.Sprintf(`{"RoomId":%q,"n":%d}`, room, i); body != want {
				t.Errorf("room %s delivery %d: %s, want %s", room, i, body, want)
			}
		}
	}
}

// TestBoltDeliversAfterRestart: what was stored while the upstream was down is delivered
// by the next backend on the same directory.
func TestBoltDeliversAfterRestart(t *testing.T) {
	dir := t.TempDir()
	down := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
	e := startBolt(t, dir, time.Hour, map[string]string{"audit": down.URL})
	for i := range 10 {
		e.Enqueue(context.Background(), e.job("audit", fmt.Sprintf(`{"n":%d}`, i)))
	}
	testutil.Eventually(t, "a failed attempt", func() bool { return down.Hits() > 0 })
	if left := e.Close(context.Background()); left != 10 {
		t.Fatalf("Close left %d pending, want 10", left)
	}
	up := upstreamtest.Start(t, upstreamtest.OK())
	e2 := startBolt(t, dir, time.Hour, map[string]string{"audit": up.URL})
	testutil.Eventually(t, "the deliveries after restart", func() bool { return e2.Stats().Delivered == 10 })
	if got := up.Hits(); got != 10 {
		t.Errorf("upstream got %d requests, want 10", got)
	}
}

// TestBoltJournalHeaders: a journal entry tells the upstream the verdict and its reason.
func TestBoltJournalHeaders(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	e := startBolt(t, t.TempDir(), time.Hour, map[string]string{"gifts": up.URL})
	j := e.job("gifts", `{"CallbackCommand":"Live.CallbackBeforeSendGift"}`)
	j.Verdict, j.Reason = "deny", "timeout"
	e.Enqueue(context.Background(), j)
	testutil.Eventually(t, "the journal delivery", func() bool { return up.Hits() == 1 })
	h := up.Requests()[0].Header
	for name, want := range map[string]string{HeaderVerdict: "deny", HeaderReason: "timeout", HeaderEventID: j.EventID, HeaderDelivery: "1"} {
		if got := h.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
}

// TestBoltKeepsTRTCHeaders: a TRTC event waits in the store with its own headers (SdkAppId,
// Sign) and the router's naming ones; after a restart it is delivered with all of them, and
// the upstream's {"code":0} counts as delivered (StatusOnly). Listing the waiting record
// never shows its Sign, in the headers or in the query.
func TestBoltKeepsTRTCHeaders(t *testing.T) {
	dir := t.TempDir()
	down := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
	e := startBolt(t, dir, time.Hour, map[string]string{"rooms": down.URL})
	body := "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103\n}"
	const sign = "vL1pEK4pwrasaRnaUxcjToIbLfPabQdrW68AX3LSWeY="
	j := Job{Upstream: e.ups["rooms"], Route: "rooms", Command: "TRTC.1.103", Body: []byte(body),
		RawQuery: "token=abc&Sign=querysign", RequestID: "rid-trtc", Received: time.Now(),
		EventID: EventID("TRTC.1.103", "", []byte(body)), StatusOnly: true,
		Headers: []proxy.Header{{Name: "SdkAppId", Value: "1400000001"}, {Name: "Sign", Value: sign},
			{Name: "X-Callback-Command", Value: "TRTC.1.103"}, {Name: "X-Callback-App", Value: "prod"}}}
	if !e.Enqueue(context.Background(), j) {
		t.Fatal("Enqueue refused the event")
	}
	testutil.Eventually(t, "a failed attempt", func() bool { return down.Hits() > 0 })
	listed, err := e.List(StatePending, Filter{})
	if err != nil || len(listed) != 1 {
		t.Fatalf("List = %v, %v; want the waiting event", listed, err)
	}
	shown := fmt.Sprintf("%+v", *listed[0])
	if strings.Contains(shown, sign) || strings.Contains(shown, "querysign") {
		t.Errorf("the listing shows a Sign: %s", shown)
	}
	if left := e.Close(context.Background()); left != 1 {
		t.Fatalf("Close left %d pending, want 1", left)
	}

	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0}`))
	e2 := startBolt(t, dir, time.Hour, map[string]string{"rooms": up.URL})
	testutil.Eventually(t, "the delivery after restart", func() bool { return e2.Stats().Delivered == 1 })
	got := up.Requests()[0]
	if string(got.Body) != body {
		t.Errorf("body = %q, want %q byte for byte", got.Body, body)
	}
	for name, want := range map[string]string{"SdkAppId": "1400000001", "Sign": sign, "X-Callback-Command": "TRTC.1.103",
		"X-Callback-App": "prod", HeaderEventID: j.EventID} {
		if got := got.Header.Get(name); got != want {
			t.Errorf("%s: %q, want %q", name, got, want)
		}
	}
	time.Sleep(100 * time.Millisecond) // a failure would be retried within the backoff
	if n := up.Hits(); n != 1 {
		t.Errorf("upstream got %d deliveries, want 1: {\"code\":0} is a delivered TRTC event", n)
	}
}
