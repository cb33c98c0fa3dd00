package server

import (
	"bufio"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestChunkedHeads: only chunked requests are remembered, a later request on the same
// header replaces an earlier one's head, and take forgets it.
func TestChunkedHeads(t *testing.T) {
	var c chunkedHeads
	var h fasthttp.RequestHeader
	read := func(raw string) {
		t.Helper()
		if err := h.Read(bufio.NewReader(strings.NewReader(raw))); err != nil {
			t.Fatal(err)
		}
		c.remember(&h)
	}
	read("POST /cb?SdkAppid=1 HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n")
	if _, ok := c.take(&h); ok {
		t.Errorf("a request with a Content-Length was remembered")
	}
	read("POST /cb?SdkAppid=1 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n")
	read("PUT /cb?SdkAppid=2 HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nX-Forwarded-For: 10.0.0.1\r\n\r\n")
	got, ok := c.take(&h)
	if want := (chunkedHead{method: "PUT", path: "/cb", rawQuery: "SdkAppid=2", forwardedFor: "10.0.0.1"}); !ok || got != want {
		t.Errorf("take = %+v, %v; want %+v, true", got, ok, want)
	}
	if _, ok := c.take(&h); ok {
		t.Errorf("take twice: the head was not forgotten")
	}
}
