package e2e

import (
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestJournalKeepsIdenticalGifts: three gifts with the same body in the same second are
// three callbacks Tencent got three deny verdicts for, so the journal keeps three records and
// delivers each, whatever the order of Sign and RequestTime in Tencent's query.
func TestJournalKeepsIdenticalGifts(t *testing.T) {
	const token = "journal-token-5b2e"
	var up atomic.Bool
	var mu sync.Mutex
	accepted := map[string]string{} // request id -> event id, of the journal deliveries accepted
	gifts := upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		if !up.Load() {
			upstreamtest.Answer(http.StatusInternalServerError, `{"error":"down"}`)(w, r, n)
			return
		}
		if r.Header.Get(delivery.HeaderVerdict) != "" {
			mu.Lock()
			accepted[r.Header.Get("X-Request-Id")] = r.Header.Get(delivery.HeaderEventID)
			mu.Unlock()
		}
		upstreamtest.OK()(w, r, n)
	})
	r := start(t, newConfig(t).SetYAML("defaults.breaker", breakerStaysClosed).
		Upstream("gifts", gifts.URL).Route(journaledGifts).Route(catchAll).
		Set("delivery.dir", filepath.Join(t.TempDir(), "data")).SetYAML("delivery.backoff", fastBackoff),
		"CALLBACK_ROUTER_TENCENT_AUTH_TOKEN="+token)

	var given []string // request ids of the deny verdicts Tencent got
	for _, signFirst := range []bool{true, false} {
		body := fmt.Sprintf(`{"CallbackCommand":"Live.CallbackBeforeSendGift","RoomId":"r","GiftWater":{"From_Account":"a","GiftId":"g","Count":1,"Coins":10,"Time":1703589922,"SignFirst":%v}}`, signFirst)
		for range 3 {
			a := r.post(t, signed(app, token, giftCommand, signFirst), body, nil)
			if got := a.fallback(); a.status != 200 || got != "upstream_error" {
				t.Fatalf("gift (Sign first: %v): %d, fallback %q, want 200 upstream_error; body %s", signFirst, a.status, got, a.body)
			}
			given = append(given, a.requestID())
		}
	}

	var stats delivery.Stats
	testutil.Eventually(t, "the journal's stats", func() bool {
		s, body := r.adminGet("/queue/stats")
		return s == 200 && json.Unmarshal([]byte(body), &stats) == nil
	})
	if stats.Pending != int64(len(given)) {
		t.Errorf("journal holds %d pending records after %d deny verdicts, want %d", stats.Pending, len(given), len(given))
	}

	up.Store(true)
	delivered := func() map[string]string {
		mu.Lock()
		defer mu.Unlock()
		return maps.Clone(accepted)
	}
	testutil.Poll(20*time.Second, func() bool { return len(delivered()) >= len(given) })
	got, events := delivered(), map[string]bool{}
	for _, id := range given {
		ev, ok := got[id]
		if !ok {
			t.Errorf("the verdict of request %s never reached the gifts service", id)
			continue
		}
		if events[ev] {
			t.Errorf("request %s was delivered with event id %s, already another request's", id, ev)
		}
		events[ev] = true
	}
}
