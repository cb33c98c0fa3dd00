package server_test

import (
	"cmp"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// Fault tests: a route with a 300 ms deadline and a deny fallback in front of an upstream
// that fails in one specific way, under concurrent callbacks. Every callback must be
// answered by its deadline with the right fallback, no goroutine may outlive the router,
// and the heap must come back to where it was.
const (
	faultDeadline  = 300 * time.Millisecond
	faultCallbacks = 120
	faultSenders   = 12
	// faultSlack is what a noisy 2-core machine under -race may add to the deadline
	// between the router's answer and the client reading it; within is also reported.
	faultSlack  = 400 * time.Millisecond
	faultWithin = 50 * time.Millisecond
	faultDeny   = `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"fault"}`
	// bigBodyDeadline is the deadline of the 5 MB answer cases (see TestUpstreamFaults).
	bigBodyDeadline = 1500 * time.Millisecond
)

// leakOptions name the goroutines that are not leaks: fasthttp's sweepers, which sleep out
// one more period after the last connection or worker is gone and then end, and its
// process-wide singletons. Everything else must be gone once the router has stopped (within
// 30 s: a lookup the resolver is still working on ends with it).
var leakOptions = []goleak.Option{
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"), // ends MaxIdleConnDuration after the last connection
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),  // ends MaxIdleWorkerDuration after Stop
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),     // one per process: the Date header's clock
	goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean"), // one per process: the dialer's DNS cache
}

// settleGoroutines waits up to 30 s for the goroutines not named by leakOptions to end.
func settleGoroutines() {
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if goleak.Find(leakOptions...) == nil {
			return
		}
	}
}

// faultUpstream is a running upstream that fails one way.
type faultUpstream struct {
	url string
	// during, if set, runs beside the callbacks (to kill and restart the upstream).
	during func()
	// hits, if set, counts the requests the upstream received.
	hits func() int64
}

// faultCase is an upstream failing one way, and the answers its callbacks may get.
type faultCase struct {
	name   string
	start  func(t *testing.T) faultUpstream
	reason []string // fallback reasons accepted; "" is the upstream's own answer
	// pace spaces each sender's callbacks, so the load spans what during does.
	pace time.Duration
	// maxHits, if set, bounds the upstream's hits per callback: an answer that must
	// not be retried.
	maxHits int64
	// deadline, if set, replaces faultDeadline: a case whose point is the answer's kind,
	// not its timing, gets room for what moving its payload costs under -race.
	deadline time.Duration
}

func TestUpstreamFaults(t *testing.T) {
	for _, fc := range []faultCase{
		{name: "killed and restarted mid-load", start: restartingUpstream, reason: []string{"", "upstream_error", "timeout"}, pace: 30 * time.Millisecond},
		{name: "accepts and never answers", start: rawUpstream(func(c net.Conn) { io.Copy(io.Discard, c) }), reason: []string{"timeout"}},
		{name: "headers then one byte a second", start: rawUpstream(dripBody), reason: []string{"timeout"}},
		{name: "200 with a truncated body", start: rawUpstream(truncatedBody), reason: []string{"upstream_error"}},
		// Twelve senders each make the upstream write 5 MB: on two shared cores under -race
		// that alone can take longer than 300 ms, so these cases, which are about the answer
		// being refused and not retried, get a deadline with room for it.
		{name: "200 with a 5 MB body", start: bigBody, reason: []string{"upstream_error"}, maxHits: 1, deadline: bigBodyDeadline},
		{name: "200 with a 5 MB chunked body", start: bigChunkedBody, reason: []string{"upstream_error", "timeout"}, maxHits: 1, deadline: bigBodyDeadline},
		{name: "resets the connection", start: func(t *testing.T) faultUpstream {
			return faultUpstream{url: upstreamtest.Start(t, upstreamtest.Reset()).URL}
		}, reason: []string{"upstream_error"}},
		{name: "Connection: close on every answer", start: func(t *testing.T) faultUpstream {
			return faultUpstream{url: upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
				w.Header().Set("Connection", "close")
				upstreamtest.OK()(w, r, n)
			}).URL}
		}, reason: []string{""}},
		{name: "DNS name that does not resolve", start: func(*testing.T) faultUpstream {
			return faultUpstream{url: "http://callback-router-fault.invalid:9001/"}
		}, reason: []string{"upstream_error", "timeout"}},
	} {
		t.Run(fc.name, func(t *testing.T) { runFault(t, fc) })
	}
}

func runFault(t *testing.T, fc faultCase) {
	// Registered first, so it runs last: after the router, the upstream and the client
	// connections have all been closed by the cleanups registered below.
	var heapBefore uint64
	var goroutinesBefore, rssBefore int
	t.Cleanup(func() {
		settle := time.Now()
		settleGoroutines()
		goleak.VerifyNone(t, leakOptions...)
		heapAfter, rssAfter := heapInUse(), testutil.ResidentKiB(os.Getpid())
		t.Logf("goroutines before %d after %d (settled in %s); heap before %.1f MiB after %.1f MiB; RSS before %d KiB after %d KiB",
			goroutinesBefore, runtime.NumGoroutine(), time.Since(settle).Round(time.Millisecond), mib(heapBefore), mib(heapAfter), rssBefore, rssAfter)
		if heapAfter > heapBefore+16<<20 {
			t.Errorf("heap grew from %.1f to %.1f MiB, want it back near where it was", mib(heapBefore), mib(heapAfter))
		}
	})
	heapBefore, goroutinesBefore, rssBefore = heapInUse(), runtime.NumGoroutine(), testutil.ResidentKiB(os.Getpid())
	deadline := cmp.Or(fc.deadline, faultDeadline)
	up := fc.start(t)
	r := startRouter(t, configFor(giftCommand, up.url, fmt.Sprintf("    deadline: %s\n    fallback: {action: deny, error_code: 102101, error_info: fault}", deadline)))

	answers := make(chan answer, faultCallbacks)
	var wg sync.WaitGroup
	work := make(chan struct{}, faultCallbacks)
	for range faultCallbacks {
		work <- struct{}{}
	}
	close(work)
	for range faultSenders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range work {
				answers <- r.post(t, giftCommand, giftBody)
				time.Sleep(fc.pace)
			}
		}()
	}
	if up.during != nil {
		up.during()
	}
	wg.Wait()
	close(answers)

	var latencies []time.Duration
	within, byReason := 0, map[string]int{}
	for a := range answers {
		latencies = append(latencies, a.Elapsed)
		byReason[a.Fallback]++
		if a.Elapsed <= deadline+faultWithin {
			within++
		}
		switch {
		case a.Status != http.StatusOK:
			t.Errorf("status %d, want 200", a.Status)
		case a.Elapsed > deadline+faultSlack:
			t.Errorf("answered after %s, want by the %s deadline", a.Elapsed, deadline)
		case !slices.Contains(fc.reason, a.Fallback):
			t.Errorf("fallback %q, want one of %q", a.Fallback, fc.reason)
		case a.Fallback != "" && a.Body != faultDeny:
			t.Errorf("fallback body %s, want %s", a.Body, faultDeny)
		case a.Fallback == "" && a.Body != allowEnvelope:
			t.Errorf("upstream answer %s, want %s", a.Body, allowEnvelope)
		}
	}
	slices.Sort(latencies)
	t.Logf("answered %d of %d, %d within deadline+%s, p50 %s p99 %s max %s, by fallback %v",
		len(latencies), faultCallbacks, within, faultWithin, pct(latencies, 50), pct(latencies, 99), latencies[len(latencies)-1], byReason)
	if len(latencies) != faultCallbacks {
		t.Errorf("answered %d callbacks, want %d", len(latencies), faultCallbacks)
	}
	if fc.maxHits > 0 {
		if hits := up.hits(); hits > fc.maxHits*faultCallbacks {
			t.Errorf("upstream called %d times for %d callbacks: the answer was retried", hits, faultCallbacks)
		}
	}
	client.CloseIdleConnections()
}

func pct(sorted []time.Duration, p int) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(time.Millisecond)
}

func mib(b uint64) float64 { return float64(b) / (1 << 20) }

// heapInUse returns the live heap after two collections (the second empties what the
// first moved to sync.Pool's victim cache: pooled buffers are not held memory).
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// rawUpstream serves each connection with serve (see upstreamtest.Raw).
func rawUpstream(serve func(net.Conn)) func(t *testing.T) faultUpstream {
	return func(t *testing.T) faultUpstream {
		return faultUpstream{url: "http://" + upstreamtest.Raw(t, serve) + "/"}
	}
}

// dripBody answers headers promising a 200-byte body and sends it a byte a second.
func dripBody(c net.Conn) {
	if !upstreamtest.ReadRequest(c) {
		return
	}
	if _, err := io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 200\r\n\r\n"); err != nil {
		return
	}
	for range 200 {
		if _, err := c.Write([]byte(" ")); err != nil {
			return
		}
		time.Sleep(time.Second)
	}
}

// truncatedBody answers 200 with a Content-Length its body does not reach, then closes.
func truncatedBody(c net.Conn) {
	if upstreamtest.ReadRequest(c) {
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n"+allowEnvelope[:20])
	}
}

// bigBody answers 200 with a 5 MB JSON object carrying ErrorCode, over max_response_bytes,
// declaring its length as most servers do for a body they hold whole.
func bigBody(t *testing.T) faultUpstream {
	payload := `{"ErrorCode":0,"Pad":"` + strings.Repeat("x", 5<<20) + `"}`
	up := upstreamtest.Start(t, func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Content-Length", strconv.Itoa(len(payload)))
		io.WriteString(w, payload)
	})
	t.Cleanup(func() { up.Set(nil) }) // let the payload go before the heap is measured
	return faultUpstream{url: up.URL, hits: up.Hits}
}

// bigChunkedBody is bigBody without a declared length: the router reads up to
// max_response_bytes before it knows, which may take it past a short deadline.
func bigChunkedBody(t *testing.T) faultUpstream {
	payload := `{"ErrorCode":0,"Pad":"` + strings.Repeat("x", 5<<20) + `"}`
	up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, payload))
	t.Cleanup(func() { up.Set(nil) }) // let the payload go before the heap is measured
	return faultUpstream{url: up.URL, hits: up.Hits}
}

// restartingUpstream answers normally, is killed (listener and connections closed) while
// callbacks are being sent, and comes back on the same port 150 ms later.
func restartingUpstream(t *testing.T) faultUpstream {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		io.WriteString(w, allowEnvelope)
	})
	var mu sync.Mutex
	srv := &http.Server{Handler: handler}
	go srv.Serve(ln)
	t.Cleanup(func() { mu.Lock(); srv.Close(); mu.Unlock() })
	return faultUpstream{url: "http://" + addr + "/", during: func() {
		time.Sleep(100 * time.Millisecond)
		mu.Lock()
		srv.Close() // the kill: listener and every connection, mid-callback for some
		mu.Unlock()
		time.Sleep(150 * time.Millisecond)
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("restart on %s: %v", addr, err)
			return
		}
		mu.Lock()
		srv = &http.Server{Handler: handler}
		go srv.Serve(ln)
		mu.Unlock()
	}}
}
