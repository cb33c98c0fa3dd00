package server_test

import (
	"bufio"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestSlowClientCut: a client that sends its headers too slowly is disconnected after
// server.read_header_timeout, and real callbacks are served meanwhile.
func TestSlowClientCut(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, configWith("server: {read_header_timeout: 200ms, read_timeout: 400ms}", giftCommand, up.URL, ""))
	addr := strings.TrimSuffix(strings.TrimPrefix(r.URL, "http://"), "/")
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.Write([]byte("POST / HTTP/1.1\r\nHost: x\r\n")); err != nil {
		t.Fatal(err)
	}
	if a := r.post(t, giftCommand, giftBody); a.Body != allowEnvelope {
		t.Errorf("callback beside a slow client got %s", a.Body)
	}
	conn.SetReadDeadline(time.Now().Add(5 * time.Second))
	start := time.Now()
	_, err = bufio.NewReader(conn).ReadString('\n')
	if err == nil {
		// net/http may answer 408 before closing; either way the connection ends.
		_, err = conn.Read(make([]byte, 512))
	}
	if elapsed := time.Since(start); elapsed > 3*time.Second {
		t.Errorf("slow client held its connection for %s, want it cut after the 200ms header timeout", elapsed)
	}
}

// TestBodyReadTimeAfterHeaders pins what config.yaml and the README say about
// server.read_timeout: the whole request must arrive within it, and the body gets
// read_timeout − read_header_timeout after the headers — exactly that on fasthttp, however
// fast the headers came; on net/http whatever of read_timeout the headers left (here all of
// it, since they come at once). Margins are wide: only which of the two bounds applies is
// checked.
func TestBodyReadTimeAfterHeaders(t *testing.T) {
	const server = "read_header_timeout: 2s, read_timeout: 5s"
	for _, tt := range []struct {
		engine   string
		min, max time.Duration
	}{
		{"fasthttp", 2500 * time.Millisecond, 4500 * time.Millisecond}, // 5s − 2s = 3s
		{"net/http", 4500 * time.Millisecond, 7 * time.Second},         // 5s from the first byte
	} {
		t.Run(tt.engine, func(t *testing.T) {
			t.Parallel()
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith("server: {engine: "+tt.engine+", "+server+"}", giftCommand, up.URL, ""))
			conn, err := net.Dial("tcp", strings.TrimSuffix(strings.TrimPrefix(r.URL, "http://"), "/"))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			// The headers at once, then part of the body and nothing more.
			if _, err := fmt.Fprintf(conn, "POST /?CallbackCommand=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s",
				giftCommand, len(giftBody), giftBody[:10]); err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			conn.SetReadDeadline(time.Now().Add(15 * time.Second))
			line, _ := bufio.NewReader(conn).ReadString('\n')
			elapsed := time.Since(start)
			if !strings.Contains(line, "408") {
				t.Errorf("answer %q, want 408", line)
			}
			if elapsed < tt.min || elapsed > tt.max {
				t.Errorf("the body was cut %s after the headers, want between %s and %s", elapsed.Round(time.Millisecond), tt.min, tt.max)
			}
		})
	}
}
