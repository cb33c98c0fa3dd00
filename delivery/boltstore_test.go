package delivery

import (
	"context"
	"errors"
	"fmt"
	bolt "go.etcd.io/bbolt"
	"testing"
	"time"
)

func openTestStore(t *testing.T, dir string, maxItems int) *BoltStore {
	t.Helper()
	s, err := OpenBoltStore(BoltOptions{Dir: dir, MaxItems: maxItems, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func rec(event, upstream string) *Record {
	return &Record{EventID: event, Upstream: upstream, Command: "Live.CallbackAfterEndBattle",
		Body: []byte(`{"BattleId":"` + event + `"}`), Received: time.Now()}
}

func TestBoltStoreAppendDedupAndFull(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 3)
	tests := []struct {
		name      string
		recs      []*Record
		wantAdded int
		wantErr   error
		wantDepth int64
	}{
		{name: "fan-out to two upstreams", recs: []*Record{rec("e1", "audit"), rec("e1", "stats")}, wantAdded: 2, wantDepth: 2},
		{name: "the same callback again is not stored twice", recs: []*Record{rec("e1", "audit")}, wantAdded: 0, wantDepth: 2},
		{name: "room for one more", recs: []*Record{rec("e2", "audit")}, wantAdded: 1, wantDepth: 3},
		{name: "full: refused whole", recs: []*Record{rec("e3", "audit")}, wantErr: ErrFull, wantDepth: 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			added, err := s.Append(context.Background(), tt.recs)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Append: got %v, want %v", err, tt.wantErr)
			}
			if got := len(added); got != tt.wantAdded {
				t.Errorf("added %d records, want %d", got, tt.wantAdded)
			}
			if got := s.depth(); got != tt.wantDepth {
				t.Errorf("depth() = %d, want %d", got, tt.wantDepth)
			}
		})
	}
}

// TestBoltStoreSurvivesReopen: what was appended is there after the file is closed and opened
// again, in arrival order, with its counts.
func TestBoltStoreSurvivesReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenBoltStore(BoltOptions{Dir: dir, MaxItems: 100, MaxBytes: 1 << 30})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 5 {
		if _, err := s.Append(context.Background(), []*Record{rec(fmt.Sprint("e", i), "audit")}); err != nil {
			t.Fatal(err)
		}
	}
	s.Close()
	s = openTestStore(t, dir, 100)
	if got, want := s.depth(), int64(5); got != want {
		t.Errorf("depth() after reopen = %d, want %d", got, want)
	}
	var order []string
	s.pending(func(r *Record) { order = append(order, r.EventID) })
	if got, want := fmt.Sprint(order), "[e0 e1 e2 e3 e4]"; got != want {
		t.Errorf("pending after reopen: %s, want %s", got, want)
	}
	full, err := s.load(1)
	if err != nil || string(full.Body) != `{"BattleId":"e0"}` {
		t.Errorf("load(1) = %v, %v; want the first record with its body", full, err)
	}
}

// TestBoltStoreSecondOpenFailsFast: a second process (the queue command beside a running
// router) gets ErrLocked within the timeout instead of hanging.
func TestBoltStoreSecondOpenFailsFast(t *testing.T) {
	dir := t.TempDir()
	openTestStore(t, dir, 10)
	start := time.Now()
	_, err := OpenBoltStore(BoltOptions{Dir: dir, MaxItems: 10, MaxBytes: 1 << 30, OpenTimeout: 200 * time.Millisecond})
	if !errors.Is(err, ErrLocked) {
		t.Errorf("second open: got %v, want ErrLocked", err)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("second open took %s, want about the 200ms timeout", d)
	}
}

// TestBoltStoreBuryReplayDrop: a buried record is dead; replay brings it back once, however
// often it runs; drop removes dead letters.
func TestBoltStoreBuryReplayDrop(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 10)
	added, err := s.Append(context.Background(), []*Record{rec("e1", "audit"), rec("e2", "audit")})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range added {
		r.Attempts, r.DeadAt, r.LastError = 7, time.Now(), "503"
		if err := s.Bury(r); err != nil {
			t.Fatal(err)
		}
	}
	if got, want := [2]int64{s.depth(), s.deadCount()}, [2]int64{0, 2}; got != want {
		t.Fatalf("pending, dead after bury = %v, want %v", got, want)
	}
	dead, _ := s.List(StateDead, Filter{})
	if len(dead) != 2 || dead[0].Attempts != 7 || dead[0].LastError != "503" {
		t.Fatalf("dead letters = %+v, want both with their attempts and error", dead)
	}
	for run := range 2 {
		replayed, err := s.replay(Filter{EventID: "e1"}, time.Now())
		if err != nil {
			t.Fatal(err)
		}
		if got, want := len(replayed), 1-run; got != want {
			t.Errorf("replay run %d replayed %d, want %d", run+1, got, want)
		}
	}
	pending, _ := s.List(StatePending, Filter{})
	if len(pending) != 1 || pending[0].EventID != "e1" || pending[0].Attempts != 0 || pending[0].Replayed.IsZero() {
		t.Errorf("pending after replay = %+v, want e1 with attempts reset and a replay time", pending)
	}
	if n, err := s.Drop(StateDead, Filter{Command: "Live.CallbackAfter*"}); err != nil || n != 1 {
		t.Errorf("Drop = %d, %v; want the one dead letter left", n, err)
	}
	if got, want := [2]int64{s.depth(), s.deadCount()}, [2]int64{1, 0}; got != want {
		t.Errorf("pending, dead at the end = %v, want %v", got, want)
	}
}

func TestFilterMatch(t *testing.T) {
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	r := &Record{Seq: 7, EventID: "abc", Command: "Live.CallbackAfterEndBattle", Received: t0}
	tests := []struct {
		name string
		f    Filter
		want bool
	}{
		{name: "empty matches all", f: Filter{}, want: true},
		{name: "by id", f: Filter{Seqs: []uint64{3, 7}}, want: true},
		{name: "other id", f: Filter{Seqs: []uint64{3}}, want: false},
		{name: "command prefix ignoring case", f: Filter{Command: "live.callbackafter*"}, want: true},
		{name: "other command", f: Filter{Command: "Mic.*"}, want: false},
		{name: "in time range", f: Filter{From: t0, To: t0.Add(time.Second)}, want: true},
		{name: "range ends before", f: Filter{To: t0}, want: false},
		{name: "event id", f: Filter{EventID: "abd"}, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.f.Match(r); got != tt.want {
				t.Errorf("Match() = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestBoltStoreAppendGivesUpAtItsDeadline: when the file cannot be written (here another writer
// holds bbolt's lock, as a stalled disk would hold the commit), Append returns at its
// context's deadline instead of holding Tencent's answer; the record handed to the
// committer is still stored once the file is writable again.
func TestBoltStoreAppendGivesUpAtItsDeadline(t *testing.T) {
	s := openTestStore(t, t.TempDir(), 10)
	locked, release := make(chan struct{}), make(chan struct{})
	go s.db.Update(func(*bolt.Tx) error { close(locked); <-release; return nil })
	<-locked

	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := s.Append(ctx, []*Record{rec("stalled", "audit")})
	waited := time.Since(start)
	close(release)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Append on a stalled store: %v, want the context's deadline", err)
	}
	if waited > time.Second { // without its deadline Append would wait for the release, which comes after it returns
		t.Errorf("Append returned after %s, want about its 100ms deadline", waited)
	}
	deadline := time.Now().Add(5 * time.Second)
	for s.depth() != 1 && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if got := s.depth(); got != 1 {
		t.Errorf("after the stall the store holds %d records, want the one Append handed over", got)
	}
}
