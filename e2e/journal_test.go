package e2e

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// tencentQuery is the query Tencent sends with a callback, signed with token now, with Sign
// and RequestTime last in the given order (Tencent's own order puts RequestTime last).
func tencentQuery(token, command string, signFirst bool) string {
	t := strconv.FormatInt(time.Now().Unix(), 10)
	q := "SdkAppid=1400000001&CallbackCommand=" + command + "&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI"
	if signFirst {
		return q + "&Sign=" + tencent.Sign(token, t) + "&RequestTime=" + t
	}
	return q + "&RequestTime=" + t + "&Sign=" + tencent.Sign(token, t)
}

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
	addr, admin := freeAddr(t), freeAddr(t)
	cfg := writeFile(t, "config.yaml", fmt.Sprintf(`
server: {listen: %q, admin_listen: %q}
tencent: {sdk_app_ids: [1400000001]}
defaults:
  breaker: {consecutive_failures: 1000, open_for: 1s, half_open_requests: 1}
upstreams:
  gifts: {url: %q}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    retries: 0
    journal: true
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
  - commands: ["*"]
delivery:
  dir: %q
  backoff: {initial: 20ms, max: 100ms}
`, addr, admin, gifts.URL, filepath.Join(t.TempDir(), "data")))
	logs, _, exited, _ := startServe(t, cfg, nil, []string{"CALLBACK_ROUTER_TENCENT_AUTH_TOKEN=" + token})
	waitAccepting(t, addr, exited, logs)

	client := &http.Client{Timeout: 5 * time.Second}
	var given []string // request ids of the deny verdicts Tencent got
	for _, signFirst := range []bool{true, false} {
		body := fmt.Sprintf(`{"CallbackCommand":"Live.CallbackBeforeSendGift","RoomId":"r","GiftWater":{"From_Account":"a","GiftId":"g","Count":1,"Coins":10,"Time":1703589922,"SignFirst":%v}}`, signFirst)
		for range 3 {
			resp, err := client.Post("http://"+addr+"/?"+tencentQuery(token, "Live.CallbackBeforeSendGift", signFirst), "application/json", strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if got := resp.Header.Get("X-Callback-Fallback"); resp.StatusCode != 200 || got != "upstream_error" {
				t.Fatalf("gift (Sign first: %v): %d, fallback %q, want 200 upstream_error; body %s", signFirst, resp.StatusCode, got, b)
			}
			given = append(given, resp.Header.Get("X-Request-Id"))
		}
	}

	var stats delivery.Stats
	waitFor(t, "the journal's stats", logs, func() bool {
		s, body := adminGet(t, admin, "/queue/stats")
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
	deadline := time.Now().Add(20 * time.Second)
	for len(delivered()) < len(given) && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
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
	if t.Failed() {
		t.Logf("router output:\n%s", logs)
	}
}
