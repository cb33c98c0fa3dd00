package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// BenchmarkHungCallbackMemory reports what a callback waiting on a hung upstream holds in
// the router's process, stack and heap, over what its idle keep-alive connection held
// already (the bench's scenario 3, bench/, measures the whole process's RSS; this shows which
// part is stack and which heap). "cold": every callback dials its upstream connection, as
// in a burst; "warm": the upstream connections exist already.
//
//	go test -run '^$' -bench HungCallbackMemory -benchtime 1x ./server/
func BenchmarkHungCallbackMemory(b *testing.B) {
	for _, warm := range []bool{false, true} {
		name := map[bool]string{false: "cold", true: "warm"}[warm]
		b.Run(name, func(b *testing.B) {
			for range b.N {
				hungCallbackMemory(b, warm)
			}
		})
	}
}

func hungCallbackMemory(b *testing.B, warm bool) {
	const n = 300
	up := startSwitchUpstream(b)
	r := startRouter(b, configFor(giftCommand, "http://"+up.addr+"/gifts", "    deadline: 1500ms\n"))
	addr := r.URL[len("http://") : len(r.URL)-1]
	req := []byte("POST /?SdkAppid=1400000001&CallbackCommand=" + giftCommand + " HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n%s", len(giftBody), giftBody))
	conns := make([]net.Conn, n)
	for i := range conns {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			b.Fatal(err)
		}
		conns[i] = c
		defer c.Close()
	}
	if warm { // one answered callback on every connection at once: the router dials n upstream connections
		var wg sync.WaitGroup
		for _, c := range conns {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c.Write(req)
				resp, err := http.ReadResponse(bufio.NewReader(c), nil)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
				}
			}()
		}
		wg.Wait()
	}
	up.hang.Store(true)
	time.Sleep(100 * time.Millisecond)
	var before, during runtime.MemStats
	for range 3 { // each collection halves an idle goroutine's stack that uses under a quarter of it
		runtime.GC()
	}
	runtime.ReadMemStats(&before)
	for _, c := range conns {
		c.Write(req)
	}
	time.Sleep(500 * time.Millisecond)
	runtime.ReadMemStats(&during)
	b.ReportMetric(float64(int64(during.StackInuse)-int64(before.StackInuse))/n, "stack-B/hung")
	b.ReportMetric(float64(int64(during.HeapInuse)-int64(before.HeapInuse))/n, "heap-B/hung")
	// After a collection: what the live callbacks hold, without garbage and freed stacks.
	runtime.GC()
	runtime.ReadMemStats(&during)
	b.ReportMetric(float64(int64(during.StackInuse)-int64(before.StackInuse))/n, "live-stack-B/hung")
	b.ReportMetric(float64(int64(during.HeapInuse)-int64(before.HeapInuse))/n, "live-heap-B/hung")
}

// switchUpstream answers the allow envelope on every request until hang is set. Then the
// connections it has keep being read and get no answer, and new ones are held unread with
// no goroutine: the test adds nothing of its own per hung callback to the figures.
type switchUpstream struct {
	addr string
	hang atomic.Bool
}

func startSwitchUpstream(b *testing.B) *switchUpstream {
	u := &switchUpstream{}
	u.addr = upstreamtest.Accept(b, func(c net.Conn) {
		if u.hang.Load() {
			return // held, never read: no goroutine of the test's in the figures
		}
		go upstreamtest.EachRequest(c, func(*http.Request) {
			if !u.hang.Load() {
				io.WriteString(c, upstreamtest.AllowResponse)
			}
		})
	})
	return u
}
