package server_test

import (
	"context"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

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

			load := testutil.StartDrainLoad(16, url, giftBody)
			time.Sleep(500 * time.Millisecond)
			before := load.Answered.Load()
			cancel()
			load.Wait()
			if err := <-done; err != nil {
				t.Errorf("Serve: %v", err)
			}
			t.Logf("%s; %d answered before shutdown began", load, before)
			if before == 0 {
				t.Fatal("no callback answered before shutdown: the load never ran")
			}
			if got := load.Cut.Load(); got != 0 {
				t.Errorf("%d callbacks were sent and not answered whole, want 0; the first: %s", got, load.FirstCut())
			}
		})
	}
}
