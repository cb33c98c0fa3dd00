package server_test

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// hostileConfig bounds slow clients tightly, so the test sees the limits act in seconds.
const hostileServer = "read_header_timeout: 500ms, read_timeout: 1s, max_header_bytes: 4096"

// TestHostileRequests sends requests no Tencent client sends, one connection each, and
// expects each to be refused with a clear status (or the connection closed) by the limit
// that bounds it, on both engines.
func TestHostileRequests(t *testing.T) {
	const q = "/?SdkAppid=1400000001&CallbackCommand=" + giftCommand
	tests := []struct {
		name string
		// send writes the request; it may dawdle.
		send func(c net.Conn)
		// want lists the statuses accepted; 0 is the connection closed without an answer.
		want []int
		// forwarded: the request is a valid callback, answered, and its connection closed
		// so that nothing after it is read.
		forwarded bool
	}{
		{"connects and sends nothing", func(net.Conn) {}, []int{0, 408}, false},
		{"headers a byte every 100 ms (slow-loris)", func(c net.Conn) {
			for _, b := range []byte("POST " + q + " HTTP/1.1\r\nHost: x\r\nX-Slow: " + strings.Repeat("a", 200)) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, []int{408, 400}, false}, // net/http answers its own 400 when the header read times out
		{"body a byte every 100 ms", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n", q, len(giftBody))
			for _, b := range []byte(giftBody) {
				if _, err := c.Write([]byte{b}); err != nil {
					return
				}
				time.Sleep(100 * time.Millisecond)
			}
		}, []int{408}, false},
		{"Content-Length longer than the body", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", q, len(giftBody)+100, giftBody)
		}, []int{408}, false},
		{"headers over max_header_bytes", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nX-Big: %s\r\nContent-Length: 2\r\n\r\n{}", q, strings.Repeat("a", 8192))
		}, []int{431}, false},
		{"garbage request line", func(c net.Conn) {
			io.WriteString(c, "\x16\x03\x01\x02\x00garbage\r\n\r\n")
		}, []int{400}, false},
		{"Content-Length and Transfer-Encoding together (smuggling)", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /smuggled HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\n{}", q)
		}, []int{200}, true},
		{"two Content-Lengths that disagree", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n{}x", q)
		}, []int{400}, false},
		{"TRACE", func(c net.Conn) {
			fmt.Fprintf(c, "TRACE %s HTTP/1.1\r\nHost: x\r\n\r\n", q)
		}, []int{405}, false},
		{"OPTIONS", func(c net.Conn) {
			fmt.Fprintf(c, "OPTIONS %s HTTP/1.1\r\nHost: x\r\n\r\n", q)
		}, []int{405}, false},
	}
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith("server: {engine: "+engine+", "+hostileServer+"}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
			addr := hostPort(r.URL)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					c := dial(t, addr, 15*time.Second)
					go tt.send(c)
					start := time.Now()
					br := bufio.NewReader(c)
					resp, err := http.ReadResponse(br, nil)
					status := 0
					if err == nil {
						status = resp.StatusCode
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
					}
					if !slices.Contains(tt.want, status) {
						t.Errorf("got %d (%v) after %s, want one of %v", status, err, time.Since(start).Round(time.Millisecond), tt.want)
					}
					if tt.forwarded {
						if resp == nil || !resp.Close {
							t.Error("the connection was kept alive after a chunked request")
						}
						if next, err := http.ReadResponse(br, nil); err == nil {
							t.Errorf("a second answer followed (%d): the bytes after the chunked body were read as a request", next.StatusCode)
						}
						return
					}
					if elapsed := time.Since(start); elapsed > 5*time.Second {
						t.Errorf("answered after %s, want within the read timeouts", elapsed)
					}
				})
			}
			if hits := up.Hits(); hits != 1 {
				t.Errorf("upstream called %d times, want once (the chunked request, a valid callback)", hits)
			}
		})
	}
}
