//go:build linux

package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/valyala/fasthttp"
)

// The bare proxy is the floor for the router's design: the same fasthttp server settings as
// the router's default engine, then fasthttp's HostClient.DoDeadline to the stub with the
// route's deadline, and the answer's body copied back — no routing, checks, retries,
// breakers, logs or metrics. What the router costs beyond it is what its own layers cost.
// It is this binary re-executed with -bare as its first argument (not listed in -h).
//
//	POST any path → the stub's answer, or the deny envelope with X-Callback-Fallback
//	                (timeout / upstream_error) when the stub does not answer 200 in time

var (
	bareDeny        = []byte(denyEnvelope)
	bareContentType = []byte("application/json; charset=utf-8")
)

type bareProxy struct {
	client interface {
		DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error
	}
	uri       string // http://stub/path
	deadline  time.Duration
	fallbacks atomic.Int64
}

func bareMain(args []string) int {
	fs := flag.NewFlagSet("bench -bare", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:0", "address to serve on")
	upstream := fs.String("upstream", "", "the stub's host:port")
	path := fs.String("path", "/gifts", "the stub's path")
	deadline := fs.Duration("deadline", 1800*time.Millisecond, "time from a request's arrival to its fallback")
	pipeline := fs.Int("pipeline", 0, "pipeline the requests over this many connections, as the router's upstreams.*.pipeline (0: one request per connection at a time)")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	p := &bareProxy{
		client: &fasthttp.HostClient{
			Addr:                *upstream,
			Name:                "bare",
			MaxConns:            8192,
			MaxIdleConnDuration: 10 * time.Second,
			RetryIfErr:          func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		},
		uri:      "http://" + *upstream + *path,
		deadline: *deadline,
	}
	if *pipeline > 0 {
		p.client = &fasthttp.PipelineClient{Addr: *upstream, Name: "bare", MaxConns: *pipeline, MaxPendingRequests: 8192,
			MaxIdleConnDuration: 10 * time.Second}
	}
	// The router's fasthttp engine settings (server/fast.go) with its default timeouts.
	srv := &fasthttp.Server{
		Handler:               p.handle,
		Name:                  "bare",
		ReadTimeout:           5 * time.Second,
		WriteTimeout:          5 * time.Second,
		IdleTimeout:           120 * time.Second,
		NoDefaultServerHeader: true,
		NoDefaultContentType:  true,
		ReduceMemoryUsage:     true,
		Concurrency:           1 << 20,
	}
	return serve("bare", *listen, srv, ", upstream "+p.uri, func() {
		// The bench counts the fallbacks from this line, as it does from the router's log.
		fmt.Fprintf(os.Stderr, "bare: fallbacks %d\n", p.fallbacks.Load())
	})
}

func (p *bareProxy) handle(ctx *fasthttp.RequestCtx) {
	deadline := time.Now().Add(p.deadline)
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	req.Header.SetMethod(fasthttp.MethodPost)
	req.SetRequestURI(p.uri)
	req.URI().SetQueryStringBytes(ctx.URI().QueryString())
	req.Header.SetContentType("application/json")
	req.SetBodyRaw(ctx.PostBody())
	err := p.client.DoDeadline(req, resp, deadline)
	ctx.Response.Header.SetContentTypeBytes(bareContentType)
	switch {
	case err == nil && resp.StatusCode() == fasthttp.StatusOK:
		ctx.SetBody(resp.Body())
		return
	case err == fasthttp.ErrTimeout:
		ctx.Response.Header.Set(fallbackHeader, "timeout")
	default:
		ctx.Response.Header.Set(fallbackHeader, "upstream_error")
	}
	p.fallbacks.Add(1)
	ctx.SetBody(bareDeny)
}

// startBare starts the bare proxy in front of upstream on a free loopback port.
func (b *bench) startBare(ctx context.Context, dir, upstream, path string, deadline time.Duration) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	argv := []string{b.self, "-bare", "-listen", addr, "-upstream", upstream, "-path", path, "-deadline", deadline.String(),
		"-pipeline", strconv.Itoa(b.opts.pipeline)}
	p, err := startServer(ctx, "bare", filepath.Join(dir, "bare.log"), argv, nil, addr)
	return p, addr, err
}

// bareFallbacks reads the count the bare proxy printed when it stopped.
func bareFallbacks(logPath string) (int64, error) {
	b, err := os.ReadFile(logPath)
	if err != nil {
		return -1, err
	}
	var n int64 = -1
	for _, line := range strings.Split(string(b), "\n") {
		if _, err := fmt.Sscanf(line, "bare: fallbacks %d", &n); err == nil {
			return n, nil
		}
	}
	return -1, fmt.Errorf("%s: no fallback count", logPath)
}
