package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// drainCounts is what the senders of TestShutdownUnderLoadCutsNothing saw.
type drainCounts struct {
	answered atomic.Int64 // a whole 200: the upstream's answer, or a fallback on a loaded machine
	refused  atomic.Int64 // the dial was refused: the router had stopped accepting
	// backlog counts new connections reset before the router accepted them: the kernel
	// had completed them into the listen queue an instant before the port closed, which
	// no server can answer. A reused (keep-alive) connection is never counted here.
	backlog  atomic.Int64
	cut      atomic.Int64 // anything else: a callback sent and never answered whole
	firstCut atomic.Pointer[string]
}

func (c *drainCounts) cutBy(why string) {
	c.cut.Add(1)
	c.firstCut.CompareAndSwap(nil, &why)
}

// TestShutdownUnderLoadCutsNothing shuts a router down while keep-alive clients send
// callbacks with pauses of 0–20 ms. Every callback sent on a connection is answered
// whole; after the drain starts, clients learn from Connection: close to reconnect, and are
// then refused at the dial, which a sender (or Tencent) sees before sending anything.
func TestShutdownUnderLoadCutsNothing(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.Slow(5*time.Millisecond, upstreamtest.OK()))
			cfg := routertest.Parse(t, configWith("server: {engine: "+engine+", listen: \"127.0.0.1:0\", drain_grace: 2s, shutdown_timeout: 10s}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
			table := routertest.Compile(t, cfg, router.Options{})
			srv := server.New(table, deliverytest.Open(t, cfg.Delivery, zerolog.Nop()), zerolog.Nop())
			if err := srv.Listen(); err != nil {
				t.Fatal(err)
			}
			url := "http://" + srv.Addr().String() + "/?SdkAppid=1400000001&CallbackCommand=" + giftCommand
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- srv.Serve(ctx) }()

			var c drainCounts
			var wg sync.WaitGroup
			for range 16 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					sendUntilRefused(url, &c)
				}()
			}
			time.Sleep(500 * time.Millisecond)
			before := c.answered.Load()
			cancel()
			wg.Wait()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			t.Logf("answered %d (%d before shutdown began), cut %d, refused at the dial after the drain %d, reset in the listen backlog as the port closed %d",
				c.answered.Load(), before, c.cut.Load(), c.refused.Load(), c.backlog.Load())
			if before == 0 {
				t.Fatal("no callback answered before shutdown: the load never ran")
			}
			if got := c.cut.Load(); got != 0 {
				t.Errorf("%d callbacks were sent and not answered whole, want 0; the first: %s", got, *c.firstCut.Load())
			}
		})
	}
}

// sendUntilRefused posts callbacks on one keep-alive client until a dial is refused. The
// body cannot be rewound (no GetBody), so net/http does not resend a callback whose
// connection closed under it: a cut shows as the error it is.
func sendUntilRefused(url string, c *drainCounts) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for {
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(giftBody)))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := client.Do(req)
		if err != nil {
			var op *net.OpError
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				c.refused.Add(1)
				return
			case errors.As(err, &op) && op.Op == "dial", !reused:
				// A new connection that fails before its first answer was caught in the
				// listen queue as the port closed (reset, or closed under the write): the
				// router never accepted it. Connections it did accept are not closed
				// before their first request is answered, or drain_grace runs out.
				c.backlog.Add(1)
				return
			}
			c.cutBy(err.Error())
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(b) {
			c.cutBy(fmt.Sprintf("%d %q %v", resp.StatusCode, b, err))
			continue
		}
		c.answered.Add(1)
		// Real traffic leaves connections idle between callbacks: that is when closing one
		// races a client about to send on it.
		time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
	}
}
