package delivery

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/natstest"
	"github.com/callback-router/callback-router/proxy"
)

// BenchmarkEnqueue measures what an async route pays before it answers Tencent: storing a
// callback durably (fsync included) in the bbolt store, for one producer and for 64
// concurrent ones (Tencent's connections), with and without group commit. Every enqueue is
// a distinct callback of the size of Tencent's samples.
//
//	go test -run '^$' -bench Enqueue -benchtime 3s ./delivery/
func BenchmarkEnqueue(b *testing.B) {
	benchEnqueue(b, func(b *testing.B, group bool) Backend {
		d, err := OpenBolt(BoltOptions{Dir: b.TempDir(), MaxItems: 1 << 30, MaxBytes: 1 << 40, noGroupCommit: !group},
			benchOptions)
		if err != nil {
			b.Fatal(err)
		}
		return d
	}, true, false)
}

// BenchmarkEnqueueJetStream measures the same on the shared backend, against a nats-server
// in the same process (so without the network a real deployment has between them).
func BenchmarkEnqueueJetStream(b *testing.B) {
	url := natstest.Start(b)
	var stream atomic.Int64
	benchEnqueue(b, func(b *testing.B, _ bool) Backend {
		n := stream.Add(1)
		q, err := OpenJetStream(JetStreamOptions{URL: url, Stream: fmt.Sprint("BENCH", n), Subject: fmt.Sprint("bench.", n),
			DeadSubject: fmt.Sprint("bench.dead.", n), Consumer: "bench", Replicas: 1, Timeout: 10 * time.Second,
			MaxItems: 1 << 24, MaxBytes: 1 << 30, Delivery: benchOptions})
		if err != nil {
			b.Fatal(err)
		}
		return q
	})
}

// benchOptions deliver nothing during a benchmark: the upstream is never reached.
var benchOptions = Options{Workers: 1, MaxAge: time.Hour, AttemptDeadline: time.Second,
	Backoff: Backoff{Initial: 200 * time.Millisecond, Max: time.Minute}, Logger: zerolog.Nop()}

// benchEnqueue runs enqueues of distinct callbacks on the backends open returns, for 1 and
// 64 producers, for each group commit setting given (none: the backend has no such setting).
func benchEnqueue(b *testing.B, open func(b *testing.B, group bool) Backend, groups ...bool) {
	label := func(group bool) string { return fmt.Sprintf("group_commit=%v/", group) }
	if len(groups) == 0 {
		groups, label = []bool{false}, func(bool) string { return "" }
	}
	up, err := proxy.New(proxy.Spec{Name: "audit", URLs: []string{"http://127.0.0.1:9/"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, group := range groups {
		for _, producers := range []int{1, 64} {
			b.Run(fmt.Sprintf("%sproducers=%d", label(group), producers), func(b *testing.B) {
				d := open(b, group)
				defer d.Close(context.Background())
				var n atomic.Int64
				job := func() Job {
					body := fmt.Appendf(nil, `{"CallbackCommand":"Live.CallbackAfterMemberStateChanged","RoomId":"room_id","EventType":"Online","EventCause":"Enter","MemberList":[{"Member_Account":"jared"},{"Member_Account":"tommy"}],"EventTime":%d}`, n.Add(1))
					return Job{Upstream: up, Route: "after", Command: "Live.CallbackAfterMemberStateChanged", Body: body,
						RawQuery:  "SdkAppid=1400000001&CallbackCommand=Live.CallbackAfterMemberStateChanged&contenttype=json",
						RequestID: "rid", Received: time.Now(), EventID: EventID("Live.CallbackAfterMemberStateChanged", "", body)}
				}
				b.ResetTimer()
				start := time.Now()
				if producers == 1 {
					for range b.N {
						if !d.Enqueue(context.Background(), job()) {
							b.Fatal("refused")
						}
					}
				} else {
					b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if !d.Enqueue(context.Background(), job()) {
								b.Error("refused")
								return
							}
						}
					})
				}
				b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "enqueues/s")
			})
		}
	}
}
