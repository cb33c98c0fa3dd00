package admin_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/delivery"
)

// openSeededStore stores n callbacks in a fresh delivery store, moves them to the dead
// letters (as a router does after delivery.max_age), and opens it as a running router does.
func openSeededStore(t *testing.T, n int) *delivery.Bolt {
	t.Helper()
	dir := t.TempDir()
	s, err := delivery.OpenBoltStore(delivery.BoltOptions{Dir: dir, MaxItems: 100, MaxBytes: 1 << 20})
	if err != nil {
		t.Fatal(err)
	}
	for i := range n {
		body := []byte(fmt.Sprintf(`{"n":%d}`, i))
		added, err := s.Append(context.Background(), []*delivery.Record{{EventID: delivery.EventID("Live.CallbackAfterEndBattle", "", body),
			Upstream: "audit", Command: "Live.CallbackAfterEndBattle", Body: body, Received: time.Now()}})
		if err != nil {
			t.Fatal(err)
		}
		added[0].DeadAt = time.Now()
		if err := s.Bury(added[0]); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	d, err := delivery.OpenBolt(delivery.BoltOptions{Dir: dir, MaxItems: 100, MaxBytes: 1 << 20}, queueOptions)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close(context.Background()) })
	return d
}

// queueOptions are the delivery settings of a backend these tests never start.
var queueOptions = delivery.Options{Workers: 1, MaxAge: time.Hour, AttemptDeadline: time.Second,
	Backoff: delivery.Backoff{Initial: 200 * time.Millisecond, Max: time.Minute}}

// TestQueueChangesNeedAFilterOrAll: POST /queue/drop and /queue/replay act on nothing unless
// the request narrows the selection or says all=true. A state alone (drop?state=pending)
// once dropped every record of that state.
func TestQueueChangesNeedAFilterOrAll(t *testing.T) {
	store := openSeededStore(t, 3)
	srv := httptest.NewServer(admin.New(admin.Options{Deliveries: store}).Handler())
	defer srv.Close()
	steps := []struct {
		path       string
		wantStatus int
		wantBody   string // a part of the answer
		dead, pend int64  // what the store holds afterwards
	}{
		{"/queue/drop", 400, "id, event, command, from, to", 3, 0},
		{"/queue/drop?state=dead", 400, "all=true", 3, 0},
		{"/queue/replay", 400, "all=true", 3, 0},
		{"/queue/replay?limit=1", 400, "all=true", 3, 0},
		{"/queue/replay?all=false", 400, "all=true", 3, 0},
		{"/queue/replay?all=maybe", 400, `all "maybe"`, 3, 0},
		{"/queue/replay?id=1", 200, `"count": 1`, 2, 1},
		{"/queue/replay?all=true", 200, `"count": 2`, 0, 3},
		{"/queue/drop?state=pending", 400, "id, event, command, from, to", 0, 3},
		{"/queue/drop?state=pending&command=Mic.*", 200, `"count": 0`, 0, 3},
		{"/queue/drop?state=pending&all=true", 200, `"count": 3`, 0, 0},
	}
	for _, st := range steps {
		resp, err := http.Post(srv.URL+st.path, "", nil)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != st.wantStatus || !strings.Contains(string(body), st.wantBody) {
			t.Errorf("POST %s: %d %q, want %d with %q", st.path, resp.StatusCode, body, st.wantStatus, st.wantBody)
		}
		if got := store.Stats(); got.Dead != st.dead || got.Pending != st.pend {
			t.Errorf("after POST %s: %d dead, %d pending; want %d, %d", st.path, got.Dead, got.Pending, st.dead, st.pend)
		}
	}
}
