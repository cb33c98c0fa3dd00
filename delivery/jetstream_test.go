package delivery

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/natstest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

func startJetStream(t *testing.T, url string, maxAge time.Duration, up *proxy.Upstream) *JetStream {
	t.Helper()
	q, err := OpenJetStream(JetStreamOptions{URL: url, Stream: "CR", Subject: "cr.deliveries", DeadSubject: "cr.dead",
		Consumer: "cr", Replicas: 1, Timeout: 5 * time.Second, MaxItems: 1000, MaxBytes: 1 << 24,
		Delivery: Options{Workers: 4, MaxAge: maxAge, AttemptDeadline: time.Second,
			Backoff: Backoff{Initial: 20 * time.Millisecond, Max: 100 * time.Millisecond}, Logger: zerolog.Nop()}})
	if err != nil {
		t.Fatal(err)
	}
	q.Start(func(string) *proxy.Upstream { return up }, nil)
	t.Cleanup(func() { q.Close(context.Background()) })
	return q
}

func testUpstream(t *testing.T, url string) *proxy.Upstream {
	up, err := proxy.New(proxy.Spec{Name: "audit", URLs: []string{url}, MaxConns: 16, MaxResponseBytes: 1 << 20,
		Breaker: proxy.BreakerSettings{ConsecutiveFailures: 1000, OpenFor: time.Second, HalfOpenRequests: 1}})
	if err != nil {
		t.Fatal(err)
	}
	return up
}

// TestJetStreamRetriesThenDelivers: the shared backend delivers with the same headers as the
// local one, retrying a failing upstream.
func TestJetStreamRetriesThenDelivers(t *testing.T) {
	srv := upstreamtest.Start(t, upstreamtest.FailFirst(3, http.StatusServiceUnavailable, upstreamtest.OK()))
	up := testUpstream(t, srv.URL)
	q := startJetStream(t, natstest.Start(t), time.Hour, up)
	body := []byte(`{"BattleId":"b1"}`)
	j := Job{Upstream: up, Command: "Live.CallbackAfterEndBattle", Body: body, RawQuery: "SdkAppid=1",
		Received: time.Now(), EventID: EventID("Live.CallbackAfterEndBattle", "SdkAppid=1", body)}
	if !q.Enqueue(context.Background(), j) {
		t.Fatal("Enqueue refused")
	}
	testutil.Eventually(t, "delivery", func() bool { return q.Stats().Delivered == 1 })
	reqs := srv.Requests()
	last := reqs[len(reqs)-1]
	if got := last.Header.Get(HeaderEventID); got != j.EventID || string(last.Body) != string(body) {
		t.Errorf("delivered %s with event id %q; want the body and %q", last.Body, got, j.EventID)
	}
	testutil.Eventually(t, "an empty stream", func() bool { return q.Stats().Pending == 0 })
}

// TestJetStreamDeadLetterAndReplay: past max_age a delivery moves to the dead-letter
// stream; replay brings it back once.
func TestJetStreamDeadLetterAndReplay(t *testing.T) {
	srv := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
	up := testUpstream(t, srv.URL)
	q := startJetStream(t, natstest.Start(t), 300*time.Millisecond, up)
	body := []byte(`{"BattleId":"b2"}`)
	q.Enqueue(context.Background(), Job{Upstream: up, Command: "Live.CallbackAfterEndBattle", Body: body, Received: time.Now(),
		EventID: EventID("Live.CallbackAfterEndBattle", "", body)})
	testutil.Eventually(t, "a dead letter", func() bool { return q.Stats().Dead == 1 })
	dead, err := q.List(StateDead, Filter{Command: "Live.*"})
	if err != nil || len(dead) != 1 || !strings.Contains(dead[0].LastError, "503") {
		t.Fatalf("dead letters %+v, %v; want one with its last error", dead, err)
	}
	srv.Set(upstreamtest.OK())
	for run, want := range []int{1, 0} {
		if n, err := q.Replay(Filter{}); err != nil || n != want {
			t.Errorf("replay run %d: %d, %v; want %d", run+1, n, err, want)
		}
	}
	testutil.Eventually(t, "the replayed delivery", func() bool { return q.Stats().Delivered == 1 })
}
