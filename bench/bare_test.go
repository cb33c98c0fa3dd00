//go:build linux

package main

import (
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/valyala/fasthttp"
)

// TestBareProxy runs the bare proxy's handler in front of the stub's, both on loopback: the
// stub's answer comes back verbatim, a hung stub gets the fallback at the deadline.
func TestBareProxy(t *testing.T) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	stub := &fasthttp.Server{Handler: stubHandler}
	go stub.Serve(ln)
	t.Cleanup(func() { stub.Shutdown() })

	for _, tc := range []struct {
		path, wantBody, wantFallback string
	}{
		{"/gifts", allowEnvelope, ""},
		{hangPath, denyEnvelope, "timeout"},
	} {
		p := &bareProxy{
			client:   &fasthttp.HostClient{Addr: ln.Addr().String()},
			uri:      "http://" + ln.Addr().String() + tc.path,
			deadline: 200 * time.Millisecond,
		}
		var ctx fasthttp.RequestCtx
		ctx.Request.SetRequestURI("/?" + callbackQuery)
		ctx.Request.Header.SetMethod(fasthttp.MethodPost)
		ctx.Request.SetBodyString(giftBody)
		p.handle(&ctx)
		if got := string(ctx.Response.Body()); got != tc.wantBody {
			t.Errorf("%s: body %q, want %q", tc.path, got, tc.wantBody)
		}
		if got := string(ctx.Response.Header.Peek(fallbackHeader)); got != tc.wantFallback {
			t.Errorf("%s: %s %q, want %q", tc.path, fallbackHeader, got, tc.wantFallback)
		}
		want := int64(0)
		if tc.wantFallback != "" {
			want = 1
		}
		if got := p.fallbacks.Load(); got != want {
			t.Errorf("%s: %d fallbacks counted, want %d", tc.path, got, want)
		}
	}
}

func TestBareFallbacks(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		log  string
		want int64
	}{
		{"bare: serving on 127.0.0.1:1\nbare: fallbacks 12\n", 12},
		{"bare: serving on 127.0.0.1:1\n", -1}, // killed before it could print
	} {
		path := filepath.Join(dir, "bare.log")
		if err := os.WriteFile(path, []byte(tc.log), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, _ := bareFallbacks(path); got != tc.want {
			t.Errorf("bareFallbacks(%q) = %d, want %d", tc.log, got, tc.want)
		}
	}
}

func TestUpstreamSide(t *testing.T) {
	run := func(s int, cpu time.Duration) runResult {
		return runResult{Scenario: s, CPU: cpu, Load: loadResult{Requests: 10_000}}
	}
	got := upstreamSide([]runResult{run(1, 500*time.Millisecond)}, []runResult{run(4, 200*time.Millisecond)})
	if want := 0.3; got < want-1e-9 || got > want+1e-9 {
		t.Errorf("upstreamSide = %v, want %v", got, want)
	}
}

func TestBeforeNeedsItsBinary(t *testing.T) {
	if _, err := parseOptions([]string{"-targets", "router,before"}); err == nil {
		t.Error("-targets before without -before: no error")
	}
	o, err := parseOptions([]string{"-before", "old-router"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.targets; len(got) != 5 || got[4] != targetBefore {
		t.Errorf("targets %v, want the defaults and before", got)
	}
	if _, err := parseOptions([]string{"-targets", "traced,before-traced"}); err == nil {
		t.Error("-targets before-traced without -before: no error")
	}
	// Asking for the -before build traced only measures it traced, not also untraced.
	o, err = parseOptions([]string{"-before", "old-router", "-targets", "before-traced,traced"})
	if err != nil {
		t.Fatal(err)
	}
	if got := o.targets; len(got) != 2 || got[0] != targetBeforeTraced || got[1] != targetTraced {
		t.Errorf("targets %v, want before-traced and traced", got)
	}
}

func TestTracedAloneMeasuresThisRouter(t *testing.T) {
	for _, tc := range []struct {
		targets string
		want    bool
	}{
		{"router", true},
		{"traced", true},
		{"before-traced,traced", true},
		{"direct,nginx,bare", false},
		{"before,before-traced", false},
	} {
		o, err := parseOptions([]string{"-before", "old-router", "-targets", tc.targets})
		if err != nil {
			t.Fatal(err)
		}
		if got := measuresThisRouter(o.targets); got != tc.want {
			t.Errorf("-targets %s: measuresThisRouter = %v, want %v", tc.targets, got, tc.want)
		}
	}
}
