//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// The stub upstream is the bench binary itself, re-executed with -stub as its first argument
// (the flag is not listed in -h). It must cost as little CPU as possible, since it shares the
// machine with the proxy under test: fasthttp, no Date header, one preallocated answer.
//
//	POST <any path but /hang>  → 200 {"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""} at once
//	POST /v1/traces            → 200 with an empty body: an OTLP/HTTP collector taking the
//	                             traced router's spans (an empty protobuf is a full success)
//	any  /hang                 → no answer, ever; the connection is held until the client
//	                             closes it or the stub stops
//	anything else              → 405

const (
	hangPath       = "/hang"
	otlpTracesPath = "/v1/traces"
)

var (
	stubAllow       = []byte(allowEnvelope)
	stubContentType = []byte("application/json")
	otlpContentType = []byte("application/x-protobuf")
)

func stubMain(args []string) int {
	fs := flag.NewFlagSet("bench -stub", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	srv := &fasthttp.Server{
		Handler:                       stubHandler,
		Name:                          "bench-stub",
		NoDefaultDate:                 true,
		NoDefaultContentType:          true,
		DisableHeaderNamesNormalizing: true,
		Concurrency:                   1 << 20,
	}
	return serve("stub", *listen, srv, "", nil)
}

// serve serves srv on listen until SIGTERM or SIGINT, then runs atExit (when given) and
// exits at once: the stub's hung connections never finish, so there is nothing to wait for.
// Both roles of this binary re-executed (-stub, -bare) run this way.
func serve(name, listen string, srv *fasthttp.Server, about string, atExit func()) int {
	ln, err := net.Listen("tcp4", listen)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go func() {
		<-ctx.Done()
		if atExit != nil {
			atExit()
		}
		os.Exit(0)
	}()
	fmt.Fprintf(os.Stderr, "%s: serving on %s (pid %d)%s\n", name, ln.Addr(), os.Getpid(), about)
	if err := srv.Serve(ln); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", name, err)
		return 1
	}
	return 0
}

func stubHandler(ctx *fasthttp.RequestCtx) {
	if string(ctx.Path()) == hangPath {
		// Send nothing; keep the connection until the client (the proxy, at its deadline)
		// closes it. The hijack handler runs in its own goroutine after this one returns.
		ctx.HijackSetNoResponse(true)
		ctx.Hijack(func(c net.Conn) {
			_ = c.SetReadDeadline(time.Now().Add(10 * time.Minute)) // bounded, like every wait here
			_, _ = io.Copy(io.Discard, c)
		})
		return
	}
	if !ctx.IsPost() {
		ctx.SetStatusCode(fasthttp.StatusMethodNotAllowed)
		return
	}
	if string(ctx.Path()) == otlpTracesPath {
		ctx.Response.Header.SetContentTypeBytes(otlpContentType)
		return
	}
	ctx.Response.Header.SetContentTypeBytes(stubContentType)
	ctx.Response.SetBodyRaw(stubAllow)
}

// startStub starts a stub upstream process on a free loopback port and waits until it listens.
func (b *bench) startStub(ctx context.Context, dir string) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	p, err := startServer(ctx, "stub", filepath.Join(dir, "stub.log"), []string{b.self, "-stub", "-listen", addr}, nil, addr)
	return p, addr, err
}
