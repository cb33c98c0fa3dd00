package delivery

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/natstest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// TestListingsMaskTheSign: on both backends a stored callback keeps Tencent's whole query,
// Sign included, for the upstream that verifies it, while every listing shows the Sign as
// "…" and the other parameters as they came.
func TestListingsMaskTheSign(t *testing.T) {
	const sign = "5f2b8c0e9d1a7346b5c2e8f0a1d3b7c9e4f6a8b0c2d4e6f8a0b1c3d5e7f9a1b3"
	const query = "SdkAppid=1400000001&CallbackCommand=Live.CallbackAfterEndBattle&Sign=" + sign + "&RequestTime=1700000000"
	const shown = "SdkAppid=1400000001&CallbackCommand=Live.CallbackAfterEndBattle&Sign=…&RequestTime=1700000000"
	type queue interface {
		Enqueue(context.Context, ...Job) bool
		List(state string, f Filter) ([]*Record, error)
		Stats() Stats
	}
	for _, backend := range []struct {
		name  string
		start func(t *testing.T, url string) (queue, *proxy.Upstream)
	}{
		{"bbolt", func(t *testing.T, url string) (queue, *proxy.Upstream) {
			e := startBolt(t, t.TempDir(), time.Hour, map[string]string{"audit": url})
			return e, e.ups["audit"]
		}},
		{"jetstream", func(t *testing.T, url string) (queue, *proxy.Upstream) {
			up := testUpstream(t, url)
			return startJetStream(t, natstest.Start(t), time.Hour, up), up
		}},
	} {
		t.Run(backend.name, func(t *testing.T) {
			srv := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
			q, up := backend.start(t, srv.URL)
			body := []byte(`{"BattleId":"b1"}`)
			if !q.Enqueue(context.Background(), Job{Upstream: up, Route: "after", Command: "Live.CallbackAfterEndBattle",
				Body: body, RawQuery: query, Received: time.Now(), EventID: EventID("Live.CallbackAfterEndBattle", query, body)}) {
				t.Fatal("Enqueue refused")
			}
			testutil.Eventually(t, "a failed attempt", func() bool { return srv.Hits() > 0 })
			recs, err := q.List(StatePending, Filter{})
			if err != nil || len(recs) != 1 {
				t.Fatalf("List(pending) = %d records, %v; want 1", len(recs), err)
			}
			if got := recs[0].RawQuery; got != shown {
				t.Errorf("listed query %q, want %q", got, shown)
			}
			listing, _ := json.Marshal(recs) // what /queue/list and queue list -json print
			if strings.Contains(string(listing), sign) {
				t.Errorf("the listing shows the Sign: %s", listing)
			}

			srv.Set(upstreamtest.OK())
			testutil.Eventually(t, "the delivery", func() bool { return q.Stats().Delivered == 1 })
			reqs := srv.Requests()
			if got := reqs[len(reqs)-1].RawQuery; got != query {
				t.Errorf("the upstream got query %q, want Tencent's whole query %q", got, query)
			}
		})
	}
}
