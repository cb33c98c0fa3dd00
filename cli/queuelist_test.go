package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/internal/natstest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/proxy"
)

const (
	storedSign  = "5f2b8c0e9d1a7346b5c2e8f0a1d3b7c9e4f6a8b0c2d4e6f8a0b1c3d5e7f9a1b3"
	storedQuery = "SdkAppid=1400000001&CallbackCommand=Live.CallbackAfterEndBattle&Sign=" + storedSign + "&RequestTime=1700000000"
)

// seedSignedRecord stores one pending callback whose query carries a Sign through the
// delivery backend cfg configures, without delivering it.
func seedSignedRecord(t *testing.T, cfg *config.Config) {
	t.Helper()
	q, err := openQueue(cfg, zerolog.Nop(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close(context.Background())
	up, err := proxy.New(proxy.Spec{Name: "audit", URLs: []string{"http://127.0.0.1:9003/events"}, MaxConns: 1, MaxResponseBytes: 1 << 20,
		Breaker: proxy.BreakerSettings{ConsecutiveFailures: 5, OpenFor: time.Second, HalfOpenRequests: 1}})
	if err != nil {
		t.Fatal(err)
	}
	body := []byte(`{"BattleId":"b1"}`)
	if !q.Enqueue(context.Background(), delivery.Job{Upstream: up, Route: "after", Command: "Live.CallbackAfterEndBattle", Body: body,
		RawQuery: storedQuery, Received: time.Now(), EventID: delivery.EventID("Live.CallbackAfterEndBattle", storedQuery, body)}) {
		t.Fatal("Enqueue refused")
	}
}

// TestQueueListMasksTheSign: `queue list`, as JSON and as a table, never prints the Sign of
// a stored query — offline on the bbolt file, through a running router's /queue/list, and on
// JetStream's streams — while the JSON still shows the rest of the query.
func TestQueueListMasksTheSign(t *testing.T) {
	isolate(t)
	boltDir := t.TempDir()
	jsConfig := queueConfigWith("", fmt.Sprintf("{backend: jetstream, jetstream: {url: %q}}", natstest.Start(t)))
	for _, tt := range []struct {
		name   string
		config func(t *testing.T) string
	}{
		{"bbolt offline", func(t *testing.T) string { return testutil.WriteFile(t, "config.yaml", queueConfig(boltDir, "")) }},
		{"bbolt through the admin listener", func(t *testing.T) string {
			return testutil.WriteFile(t, "config.yaml", queueConfig(boltDir, serveQueueAdmin(t, boltDir, "")))
		}},
		{"jetstream", func(t *testing.T) string { return testutil.WriteFile(t, "config.yaml", jsConfig) }},
	} {
		t.Run(tt.name, func(t *testing.T) {
			path := tt.config(t)
			if tt.name != "bbolt through the admin listener" {
				cfg, err := config.LoadFile(path)
				if err != nil {
					t.Fatal(err)
				}
				seedSignedRecord(t, cfg)
			}
			for _, args := range [][]string{{"-json"}, {}} {
				code, out, errOut := run(t, append([]string{"queue", "list", "-config", path, "-state", "pending"}, args...)...)
				if code != ExitOK {
					t.Fatalf("queue list %v: exit %d, stderr %s", args, code, errOut)
				}
				if strings.Contains(out+errOut, storedSign) {
					t.Errorf("queue list %v prints the Sign:\n%s", args, out)
				}
				if len(args) == 0 {
					if !strings.Contains(out, "1 pending record(s)") {
						t.Errorf("queue list: want the one record:\n%s", out)
					}
					continue
				}
				var recs []struct{ Query string }
				if err := json.Unmarshal([]byte(out), &recs); err != nil || len(recs) != 1 {
					t.Fatalf("queue list -json: %d records, %v:\n%s", len(recs), err, out)
				}
				if want := strings.ReplaceAll(storedQuery, storedSign, "…"); recs[0].Query != want {
					t.Errorf("queue list -json: query %q, want %q", recs[0].Query, want)
				}
			}
		})
	}
}
