package server_test

import (
	"bufio"
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
