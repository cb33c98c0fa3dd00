package delivery

import (
	"context"
	"testing"
	"time"

	"go.uber.org/goleak"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestBoltCloseLeavesNoGoroutine: Close stops the committer, the dispatcher and every
// worker, including one stuck in a delivery to a hung upstream once ctx ends.
func TestBoltCloseLeavesNoGoroutine(t *testing.T) {
	up := upstreamtest.Start(t, nil)
	up.Set(up.Hang())
	before := goleak.IgnoreCurrent()
	e := startBolt(t, t.TempDir(), time.Hour, map[string]string{"audit": up.URL})
	for _, body := range []string{`{"n":1}`, `{"n":2}`} {
		e.Enqueue(context.Background(), e.job("audit", body))
	}
	testutil.Eventually(t, "the hung deliveries", func() bool { return up.Hits() >= 2 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	if left := e.Close(ctx); left != 2 {
		t.Errorf("Close left %d pending, want the 2 undelivered", left)
	}
	if d := time.Since(start); d > 5*time.Second {
		t.Errorf("Close took %s with a 200ms context, want it to cut the hung attempts", d)
	}
	// The upstreams' fasthttp clients keep cleaners of their own, which outlive any call:
	// they belong to the route table, not to the delivery backend.
	goleak.VerifyNone(t, before,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*TCPDialer).tcpAddrsClean"))
}
