package server_test

import (
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestJournalDeliversFallbackVerdict: a route with journal: true that answers Tencent from
// its fallback later tells its upstream the verdict, the reason and the original callback.
func TestJournalDeliversFallbackVerdict(t *testing.T) {
	tests := []struct {
		name        string
		behave      upstreamtest.Behavior
		wantReason  string
		wantJournal bool
	}{
		{name: "upstream error", behave: upstreamtest.FailFirst(1, http.StatusInternalServerError, upstreamtest.OK()),
			wantReason: "upstream_error", wantJournal: true},
		{name: "answered by the upstream: nothing to journal", behave: upstreamtest.OK(), wantJournal: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := upstreamtest.Start(t, tt.behave)
			r := startRouter(t, fmt.Sprintf(`
upstreams:
  gifts: {url: %q}
routes:
  - commands: [%q]
    upstream: gifts
    retries: 0
    journal: true
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
`, up.URL, giftCommand))
			a := r.post(t, giftCommand, giftBody)
			if tt.wantJournal {
				if a.Fallback != tt.wantReason {
					t.Fatalf("answer fallback %q, want %q", a.Fallback, tt.wantReason)
				}
				testutil.Eventually(t, "the journaled verdict's delivery", func() bool { return up.Hits() == 2 })
				j := up.Requests()[1]
				if got, want := string(j.Body), giftBody; got != want {
					t.Errorf("journal body %s, want the original callback %s", got, want)
				}
				for name, want := range map[string]string{
					delivery.HeaderVerdict: "deny", delivery.HeaderReason: tt.wantReason,
					"X-Request-Id": a.Header.Get("X-Request-Id"),
				} {
					if got := j.Header.Get(name); got != want {
						t.Errorf("journal %s: %q, want %q", name, got, want)
					}
				}
				if j.Header.Get(delivery.HeaderEventID) == "" {
					t.Errorf("journal has no %s", delivery.HeaderEventID)
				}
				return
			}
			if a.Fallback != "" {
				t.Fatalf("answer fallback %q, want the upstream's answer", a.Fallback)
			}
			// A verdict journaled by mistake would reach the upstream within milliseconds
			// (nothing fails it); give it far longer, then check nothing came or waits.
			time.Sleep(500 * time.Millisecond)
			if got := up.Hits(); got != 1 {
				t.Errorf("the upstream got %d requests after answering itself, want 1 (no journal entry)", got)
			}
			q := r.srv.Queue()
			if st := q.Stats(); st.Pending != 0 || st.Delivered != 0 {
				t.Errorf("delivery store: %d pending, %d delivered after an upstream answer, want none", st.Pending, st.Delivered)
			}
		})
	}
}

// TestAsyncEventIDIsStable: Tencent sending the same after-callback twice yields the same
// X-Callback-Event-Id on every delivery, so the upstream can drop the duplicate.
func TestAsyncEventIDIsStable(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	yaml := fmt.Sprintf(`
upstreams:
  audit: {url: %q}
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
`, up.URL)
	r := startRouter(t, yaml)
	q := r.srv.Queue()
	body := `{"CallbackCommand":"Live.CallbackAfterEndBattle","BattleId":"b1"}`
	r.post(t, endBattle, body)
	// Delivered means gone from the store too: while the first delivery is still pending,
	// the same callback arriving again is (rightly) not stored twice.
	testutil.Eventually(t, "the delivery, gone from the store", func() bool { return up.Hits() == 1 && q.Stats().Pending == 0 })
	r.post(t, endBattle, body)
	r.post(t, endBattle, `{"CallbackCommand":"Live.CallbackAfterEndBattle","BattleId":"b2"}`)
	testutil.Eventually(t, "both new callbacks delivered", func() bool { return up.Hits() == 3 })
	reqs := up.Requests()
	ids := []string{reqs[0].Header.Get(delivery.HeaderEventID), reqs[1].Header.Get(delivery.HeaderEventID), reqs[2].Header.Get(delivery.HeaderEventID)}
	if ids[0] == "" || ids[0] != ids[1] {
		t.Errorf("the same callback twice: event ids %q and %q, want equal and set", ids[0], ids[1])
	}
	if ids[2] == ids[0] {
		t.Errorf("another callback has the same event id %q", ids[2])
	}
}
