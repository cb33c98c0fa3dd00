package server_test

import (
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// drainCounts is what the senders of TestShutdownUnderLoadCutsNothing saw.
type drainCounts struct {
	answered atomic.Int64 // a whole 200 with the upstream's answer
	refused  atomic.Int64 // the dial was refused: the router had stopped accepting
	cut      atomic.Int64 // anything else: a callback sent and never answered whole
}

// TestShutdownUnderLoadCutsNothing shuts a router down while keep-alive clients send
// callbacks with pauses of 0–20 ms. Every callback sent on a connection is answered
// whole; after the drain starts, clients learn from Connection: close to reconnect, and are
// then refused at the dial, which a sender (or Tencent) sees before sending anything.
func TestShutdownUnderLoadCutsNothing(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.Slow(5*time.Millisecond, upstreamtest.OK()))
			cfg, err := config.Parse(strings.NewReader(configWith("server: {engine: "+engine+", listen: \"127.0.0.1:0\", drain_grace: 2s, shutdown_timeout: 10s}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, "")))
			if err != nil {
				t.Fatal(err)
			}
			table, err := router.Compile(cfg, router.Options{})
			if err != nil {
				t.Fatal(err)
			}
			srv := server.New(table, zerolog.Nop())
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
			t.Logf("answered %d (%d before shutdown began), cut %d, refused at the dial after the drain %d",
				c.answered.Load(), before, c.cut.Load(), c.refused.Load())
			if before == 0 {
				t.Fatal("no callback answered before shutdown: the load never ran")
			}
			if got := c.cut.Load(); got != 0 {
				t.Errorf("%d callbacks were sent and not answered whole, want 0", got)
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
		req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(giftBody)))
		resp, err := client.Do(req)
		if err != nil {
			if errors.Is(err, syscall.ECONNREFUSED) {
				c.refused.Add(1)
				return
			}
			c.cut.Add(1)
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || string(b) != allowEnvelope {
			c.cut.Add(1)
			continue
		}
		c.answered.Add(1)
		// Real traffic leaves connections idle between callbacks: that is when closing one
		// races a client about to send on it.
		time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
	}
}
