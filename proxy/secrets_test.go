package proxy_test

import (
	"context"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// TestConnectionErrorsCarryNoURLSecrets: an upstream URL may carry credentials in its userinfo
// and its query (an api_key). When the connection fails, the error the proxy returns — which
// the router logs — names neither: net/http's `Post "<url>": …` wrapping must not leak them.
func TestConnectionErrorsCarryNoURLSecrets(t *testing.T) {
	for _, tc := range upstreamtest.Unreachable {
		t.Run(tc.Name, func(t *testing.T) {
			raw := "http://USERNAME:PASS@" + tc.Addr(t) + "/x?api_key=SECRET"
			up, err := proxy.New(proxy.Spec{Name: "up", URLs: []string{raw}, MaxConns: 4, MaxResponseBytes: 1 << 20,
				Breaker: proxy.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Second, HalfOpenRequests: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer up.CloseIdleConnections()
			res := up.Caller(proxy.Policy{Retries: 1}).Forward(context.Background(), time.Now().Add(2*time.Second),
				&proxy.Call{Body: []byte(`{}`), RawQuery: "SdkAppid=1", RequestID: "r1"})
			if res.Err == nil {
				t.Fatalf("Forward to a failing upstream: err = nil, reason %q", res.Reason)
			}
			for _, secret := range []string{"SECRET", "PASS", "USERNAME", "api_key"} {
				if msg := res.Err.Error(); strings.Contains(msg, secret) {
					t.Errorf("Result.Err = %q, contains %q", msg, secret)
				}
				if strings.Contains(res.Instance, secret) {
					t.Errorf("Result.Instance = %q, contains %q", res.Instance, secret)
				}
			}
		})
	}
}

// TestUnreadableAnswersQuoteNothing: fasthttp's errors for an answer it cannot parse quote
// the bytes it read. An upstream that echoes what it got (a TCP echo on the wrong port, a
// debugging stub) sends back Tencent's query with its Sign, the URL's api_key and the body,
// and the router logs Result.Err: it must carry none of them, whatever the parse failed on.
func TestUnreadableAnswersQuoteNothing(t *testing.T) {
	const marker = "BODY-MARKER-71c2"
	for _, tc := range []struct {
		name   string
		answer func(request []byte) []byte
		says   string // what the error still tells the operator
	}{
		{"the request echoed back", func(req []byte) []byte { return req }, "invalid response status code"},
		{"a status line with the request in it", func(req []byte) []byte {
			return append([]byte("HTTP/1.1 2000 "), req...)
		}, "invalid response status code"},
		{"a header value with a NUL", func(req []byte) []byte {
			line, _, _ := strings.Cut(string(req), "\r\n")
			return []byte("HTTP/1.1 200 OK\r\nX-Echo: " + line + "\x00\r\nContent-Length: 2\r\n\r\n{}")
		}, "invalid header value"},
		{"a chunk size that is not hex", func(req []byte) []byte {
			return []byte("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz" + string(req) + "\r\n0\r\n\r\n")
		}, "hex"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			addr := rawUpstream(t, tc.answer)
			up, err := proxy.New(proxy.Spec{Name: "up", URLs: []string{"http://" + addr + "/x?api_key=SECRET"}, MaxConns: 4, MaxResponseBytes: 1 << 20,
				Breaker: proxy.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Second, HalfOpenRequests: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer up.CloseIdleConnections()
			res := up.Caller(proxy.Policy{}).Forward(context.Background(), time.Now().Add(2*time.Second),
				&proxy.Call{Body: []byte(`{"Note":"` + marker + `"}`), RawQuery: "SdkAppid=1&Sign=s3cr3t&RequestTime=1", RequestID: "r1"})
			if res.Err == nil || res.Reason != proxy.ReasonUpstreamError {
				t.Fatalf("Forward to an unparseable answer: err %v, reason %q, want an error and %q", res.Err, res.Reason, proxy.ReasonUpstreamError)
			}
			if msg := res.Err.Error(); !strings.Contains(msg, tc.says) {
				t.Errorf("Result.Err = %q, want it to say %q", msg, tc.says)
			}
			for _, secret := range []string{"s3cr3t", "SECRET", marker, "SdkAppid"} {
				if msg := res.Err.Error(); strings.Contains(msg, secret) {
					t.Errorf("Result.Err = %q, contains %q", msg, secret)
				}
			}
		})
	}
}

// rawUpstream answers each connection's first read with answer(what it read), then closes.
func rawUpstream(t *testing.T, answer func(request []byte) []byte) string {
	return upstreamtest.Raw(t, func(c net.Conn) {
		c.SetDeadline(time.Now().Add(5 * time.Second))
		// The request is small and sent in one write: its head and body arrive together.
		buf := make([]byte, 64<<10)
		if n, err := c.Read(buf); err == nil {
			c.Write(answer(buf[:n]))
		}
	})
}
