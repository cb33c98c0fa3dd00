package delivery

import (
	"context"
	"fmt"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/proxy"
)

// BenchmarkEnqueue measures what an async route pays before it answers Tencent: storing a
// callback durably (fsync included) in the bbolt store, for one producer and for 64
// concurrent ones (Tencent's connections), with and without group commit. Every enqueue is
// a distinct callback of the size of Tencent's samples.
//
//	go test -run '^$' -bench Enqueue -benchtime 3s ./delivery/
func BenchmarkEnqueue(b *testing.B) {
	up, err := proxy.New(proxy.Spec{Name: "audit", URLs: []string{"http://127.0.0.1:9/"}})
	if err != nil {
		b.Fatal(err)
	}
	for _, group := range []bool{true, false} {
		for _, producers := range []int{1, 64} {
			b.Run(fmt.Sprintf("group_commit=%v/producers=%d", group, producers), func(b *testing.B) {
				d, err := OpenDurable(BoltOptions{Dir: b.TempDir(), MaxItems: 1 << 30, MaxBytes: 1 << 40, NoGroupCommit: !group},
					DurableOptions{Workers: 1, MaxAge: time.Hour, AttemptDeadline: time.Second, Logger: zerolog.Nop()})
				if err != nil {
					b.Fatal(err)
				}
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
						if !d.Enqueue(job()) {
							b.Fatal("refused")
						}
					}
				} else {
					b.SetParallelism((producers + runtime.GOMAXPROCS(0) - 1) / runtime.GOMAXPROCS(0))
					b.RunParallel(func(pb *testing.PB) {
						for pb.Next() {
							if !d.Enqueue(job()) {
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
