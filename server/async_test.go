package server_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

const endBattle = "Live.CallbackAfterEndBattle"

// TestAsyncAnswersAtOnceAndDelivers: an async route acknowledges before the upstream answers,
// then delivers the exact bytes to every upstream it lists, retrying a failed delivery.
func TestAsyncAnswersAtOnceAndDelivers(t *testing.T) {
	slow := upstreamtest.Start(t, upstreamtest.Slow(500*time.Millisecond, upstreamtest.OK()))
	flaky := upstreamtest.Start(t, upstreamtest.FailFirst(2, 503, upstreamtest.OK()))
	r := startRouter(t, fmt.Sprintf(`
upstreams:
  audit: {url: %q}
  stats: {url: %q}
routes:
  - commands: ["Live.CallbackAfter*"]
    upstreams: [audit, stats]
    async: true
`, slow.URL, flaky.URL))
	body := `{"CallbackCommand":"Live.CallbackAfterEndBattle","BattleId":"b1","FromRoomInfo":{"Owner_Account":144115245353757792}}`
	a := r.post(t, endBattle, body)
	if a.Status != 200 || a.Body != allowEnvelope || a.Fallback != "" {
		t.Errorf("got %d %s (fallback %q), want the acknowledgement", a.Status, a.Body, a.Fallback)
	}
	if a.Elapsed > 300*time.Millisecond {
		t.Errorf("acknowledged after %s, want at once (the upstream takes 500ms)", a.Elapsed)
	}
	testutil.Eventually(t, "the deliveries", func() bool { return slow.Hits() == 1 && flaky.Hits() == 3 })
	// flaky: 503 and 503 in the first delivery (one quick retry), OK in the second.
	for name, up := range map[string]*upstreamtest.Upstream{"audit": slow, "stats": flaky} {
		reqs := up.Requests()
		last := reqs[len(reqs)-1]
		if string(last.Body) != body {
			t.Errorf("%s got body %q, want %q", name, last.Body, body)
		}
		if got, want := last.Header.Get("X-Request-Id"), a.Header.Get("X-Request-Id"); got != want {
			t.Errorf("%s got X-Request-Id %q, want %q", name, got, want)
		}
	}
}

// TestAsyncQueueFullAnswersFallback: past delivery.max_items the route answers its fallback
// with reason overloaded instead of growing memory.
func TestAsyncQueueFullAnswersFallback(t *testing.T) {
	up := upstreamtest.Start(t, nil)
	up.Set(up.Hang())
	r := startRouter(t, fmt.Sprintf(`
upstreams:
  audit: {url: %q}
routes:
  - commands: ["*"]
    upstream: audit
    async: true
    fallback: {action: allow, error_info: "queued elsewhere"}
delivery: {max_items: 3, workers: 1, attempt_deadline: 200ms}
server: {shutdown_timeout: 1s}
`, up.URL))
	var overloaded int
	for i := range 5 {
		// Distinct bodies: the same callback twice is one pending delivery (TestBoltStoreAppendDedupAndFull).
		if a := r.post(t, endBattle, fmt.Sprintf(`{"BattleId":"b%d"}`, i)); a.Fallback == "overloaded" {
			overloaded++
			if want := `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"queued elsewhere"}`; a.Body != want {
				t.Errorf("overloaded answer %s, want %s", a.Body, want)
			}
		}
	}
	if got, want := overloaded, 2; got != want {
		t.Errorf("%d callbacks answered overloaded, want %d (queue holds 3)", got, want)
	}
}

// TestInFlightLimitSheds: past max_in_flight the route answers its fallback with reason
// overloaded at once instead of queueing callbacks past their deadline.
func TestInFlightLimitSheds(t *testing.T) {
	up := upstreamtest.Start(t, nil)
	up.Set(up.Hang())
	r := startRouter(t, configFor(giftCommand, up.URL, "    deadline: 1s\n    max_in_flight: 2\n"+giftDeny))
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() { defer wg.Done(); r.post(t, giftCommand, giftBody) }()
	}
	testutil.Eventually(t, "two deliveries", func() bool { return up.Hits() == 2 })
	a := r.post(t, giftCommand, giftBody)
	if a.Body != giftDenyBody || a.Fallback != "overloaded" {
		t.Errorf("third callback got %s (fallback %q), want the deny fallback (overloaded)", a.Body, a.Fallback)
	}
	if a.Elapsed > 200*time.Millisecond {
		t.Errorf("overloaded answer took %s, want at once", a.Elapsed)
	}
	wg.Wait()
	if a := r.post(t, giftCommand, giftBody); a.Fallback != "timeout" {
		t.Errorf("after the hung callbacks ended, fallback %q, want timeout (slots freed)", a.Fallback)
	}
}
