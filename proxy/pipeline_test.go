package proxy_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// sequentialUpstream serves each connection's requests one after another, as most HTTP/1.1
// servers do with pipelined requests, and counts its connections. A request whose query
// holds "slow" is answered after slow.
type sequentialUpstream struct {
	url   string
	conns atomic.Int64
}

func startSequentialUpstream(t *testing.T, slow time.Duration) *sequentialUpstream {
	t.Helper()
	u := &sequentialUpstream{}
	addr := upstreamtest.Raw(t, func(c net.Conn) {
		u.conns.Add(1)
		c.SetDeadline(time.Now().Add(10 * time.Second)) // bounded, like every wait here
		upstreamtest.EachRequest(c, func(req *http.Request) {
			if req.URL.Query().Has("slow") {
				time.Sleep(slow)
			}
			io.WriteString(c, upstreamtest.AllowResponse)
		})
	})
	u.url = "http://" + addr + "/gifts"
	return u
}

// TestPipelining: with pipeline: 1, concurrent calls share one connection; without, each
// call in flight has its own (newUpstream allows 16).
func TestPipelining(t *testing.T) {
	for _, tt := range []struct {
		pipeline  int
		wantConns func(int64) bool
		want      string
	}{
		{1, func(n int64) bool { return n == 1 }, "1"},
		{0, func(n int64) bool { return n > 1 }, "more than 1"},
	} {
		t.Run(pipelineName(tt.pipeline), func(t *testing.T) {
			u := startSequentialUpstream(t, 0)
			c := newUpstream(t, []string{u.url}, breakerNeverOpens, tt.pipeline).Caller(proxy.Policy{})
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					if res := forward(c, 5*time.Second); !res.OK() {
						t.Errorf("forward failed: %s %v", res.Reason, res.Err)
					}
				}()
			}
			wg.Wait()
			if got := u.conns.Load(); !tt.wantConns(got) {
				t.Errorf("16 concurrent calls used %d connections, want %s", got, tt.want)
			}
		})
	}
}

// TestPipelineHeadOfLineBlocking shows the cost pipeline: N is documented with: an answer
// waits for the answers before it on its connection. A quick call sent after a slow one
// on the same (only) connection is answered only after the slow one; without pipelining it
// is answered at once.
func TestPipelineHeadOfLineBlocking(t *testing.T) {
	const slow = time.Second
	for _, tt := range []struct {
		pipeline int
		blocked  bool
	}{{1, true}, {0, false}} {
		t.Run(pipelineName(tt.pipeline), func(t *testing.T) {
			u := startSequentialUpstream(t, slow)
			c := newUpstream(t, []string{u.url}, breakerNeverOpens, tt.pipeline).Caller(proxy.Policy{})
			if res := forward(c, 5*time.Second); !res.OK() { // the connection is open before the test
				t.Fatalf("forward failed: %s %v", res.Reason, res.Err)
			}
			slowDone := make(chan proxy.Result, 1)
			go func() {
				slowDone <- c.Forward(context.Background(), time.Now().Add(5*time.Second), &proxy.Call{Body: body, RawQuery: "slow=1"})
			}()
			time.Sleep(100 * time.Millisecond) // the slow call is on the wire first
			start := time.Now()
			res := forward(c, 5*time.Second)
			took := time.Since(start)
			if !res.OK() {
				t.Fatalf("quick call failed: %s %v", res.Reason, res.Err)
			}
			if blocked := took > slow/2; blocked != tt.blocked {
				t.Errorf("the quick call took %v behind a %v one; want blocked = %v", took, slow, tt.blocked)
			}
			if r := <-slowDone; !r.OK() {
				t.Errorf("slow call failed: %s %v", r.Reason, r.Err)
			}
		})
	}
}
