package server_test

import (
	"context"
	"fmt"
	"net"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/tencent"
)

// startFastUpstream serves the allow envelope from an in-process fasthttp server, cheap
// enough not to dominate a benchmark of the router's own path.
func startFastUpstream(b *testing.B) string {
	b.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		ctx.SetContentType("application/json")
		ctx.SetBodyString(allowEnvelope)
	}}
	go srv.Serve(ln)
	b.Cleanup(func() { srv.Shutdown() })
	return "http://" + ln.Addr().String()
}

// benchHandler builds a Handler over a compiled config, without a listener in front.
func benchHandler(b *testing.B, yaml string) *server.Handler {
	b.Helper()
	cfg := routertest.Parse(b, yaml)
	var p atomic.Pointer[router.Table]
	p.Store(routertest.Compile(b, cfg, router.Options{}))
	return server.NewHandler(&p, deliverytest.Open(b, cfg.Delivery, zerolog.Nop()), zerolog.New(discard{}))
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// processCPU is the CPU time (user and system) the test process has used so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru) // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU reports the process's CPU time per operation since start as cpu-ns/op: on a
// shared machine it moves less than ns/op, which counts the time other processes take the
// cores. It includes the in-process upstream's share and the loopback system calls.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(processCPU()-start)/float64(b.N), "cpu-ns/op")
}

// handleInParallel runs the handler on in, stamped with the time of each call, on every
// core until the benchmark ends, stopping at the first answer want refuses; it reports
// allocations and the CPU time per callback. want sees the status and the fallback, not
// the answer: a pointer to it would escape to the heap and cost an allocation per callback.
func handleInParallel(b *testing.B, h *server.Handler, in server.Inbound, want func(status int, fallback string) error) {
	b.ReportAllocs()
	b.ResetTimer()
	defer reportCPU(b, processCPU())
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call := in
			call.Received = time.Now()
			var out server.Outbound
			h.Handle(context.Background(), &call, &out)
			if err := want(out.Status, out.Fallback); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// forwarded is the answer of a callback its upstream answered.
func forwarded(status int, fallback string) error {
	if status != 200 || fallback != "" {
		return fmt.Errorf("got %d fallback %q, want 200 from the upstream", status, fallback)
	}
	return nil
}

// BenchmarkHandleForwarded is the whole request path minus the ingress connection: checks,
// routing, the upstream call over loopback, the log line (JSON, to a discarding writer).
func BenchmarkHandleForwarded(b *testing.B) {
	h := benchHandler(b, configFor(giftCommand, startFastUpstream(b), ""))
	query := "SdkAppid=1400000001&CallbackCommand=" + giftCommand + "&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android"
	handleInParallel(b, h, server.Inbound{Method: "POST", Path: "/", RawQuery: query, Body: []byte(giftBody), RemoteIP: "127.0.0.1"}, forwarded)
}

// BenchmarkHandleForwardedTRTC is BenchmarkHandleForwarded for a TRTC event: recognised by its
// body, its Sign verified with the app's key, forwarded with its headers, any 200 taken.
func BenchmarkHandleForwardedTRTC(b *testing.B) {
	const key = "BenchKey123"
	h := benchHandler(b, configWith("tencent: {sdk_app_ids: [1400000001], trtc_key: "+key+"}", "TRTC.1.*", startFastUpstream(b), ""))
	body := []byte(trtcEnterRoom)
	handleInParallel(b, h, server.Inbound{Method: "POST", Path: "/", Body: body, RemoteIP: "127.0.0.1",
		TRTCAppID: "1400000001", TRTCSign: tencent.SignTRTC(key, body)}, forwarded)
}

// BenchmarkHandleBreakerOpen is the path of an open breaker: no upstream call at all.
func BenchmarkHandleBreakerOpen(b *testing.B) {
	dead := "http://127.0.0.1:1"
	h := benchHandler(b, configWith("tencent: {sdk_app_ids: [1400000001]}", giftCommand, dead, "    retries: 0\n")+
		"\n") // breaker opens after the defaults' 1000 failures below
	query := "SdkAppid=1400000001&CallbackCommand=" + giftCommand
	body := []byte(giftBody)
	for range 1000 {
		var out server.Outbound
		h.Handle(context.Background(), &server.Inbound{Received: time.Now(), Method: "POST", Path: "/", RawQuery: query, Body: body}, &out)
	}
	handleInParallel(b, h, server.Inbound{Method: "POST", Path: "/", RawQuery: query, Body: body, RemoteIP: "127.0.0.1"},
		func(_ int, fallback string) error {
			if fallback != "breaker_open" {
				return fmt.Errorf("fallback %q, want breaker_open", fallback)
			}
			return nil
		})
}
