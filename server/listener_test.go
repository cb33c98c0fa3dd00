package server_test

import (
	"bufio"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/server"
)

// TestConnectionLimits holds idle connections up to server.max_conns and
// server.max_conns_per_ip: the next connection gets 503 or 429 with a JSON error and is
// closed, the refusal reaches the observer (rejections_total), and a slot freed by a client
// that leaves is usable again.
func TestConnectionLimits(t *testing.T) {
	tests := []struct {
		name       string
		limits     string
		hold       int
		wantStatus int
		wantError  string
	}{
		{"server.max_conns", "max_conns: 4", 4, 503, "too_many_connections"},
		{"server.max_conns_per_ip", "max_conns_per_ip: 3", 3, 429, "too_many_connections_per_ip"},
	}
	for _, engine := range []string{"fasthttp", "net/http"} {
		for _, tt := range tests {
			t.Run(engine+"/"+tt.name, func(t *testing.T) {
				up := upstreamtest.Start(t, upstreamtest.OK())
				rec := &recorder{}
				r := startRouter(t, configWith("server: {engine: "+engine+", "+tt.limits+"}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""), server.WithObserver(rec))
				addr := hostPort(r.URL)
				var held []net.Conn
				for range tt.hold {
					held = append(held, dialOK(t, addr))
				}
				defer func() {
					for _, c := range held {
						c.Close()
					}
				}()
				status, body := rawPost(t, addr)
				if status != tt.wantStatus || !strings.Contains(body, `"error":"`+tt.wantError+`"`) {
					t.Errorf("connection past the limit got %d %s, want %d %s", status, body, tt.wantStatus, tt.wantError)
				}
				if ev := rec.last(); ev.RejectCode != tt.wantError || ev.Status != tt.wantStatus || ev.Decision != server.DecisionRejected {
					t.Errorf("observer saw %+v, want the refusal %s", ev, tt.wantError)
				}
				held[0].Close()
				held = held[1:]
				testutil.Eventually(t, "a freed slot to be usable", func() bool {
					s, _ := rawPost(t, addr)
					return s == http.StatusOK
				})
			})
		}
	}
}

// TestOutsiderCannotHoldConnection: with tencent.allowed_cidrs set, a peer outside it is
// answered 403 and disconnected as soon as it connects, before it sends a byte, so outsiders
// cannot use up server.max_conns with idle connections.
func TestOutsiderCannotHoldConnection(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			rec := &recorder{}
			r := startRouter(t, configWith("server: {engine: "+engine+", max_conns: 2}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [203.0.113.0/24]}", giftCommand, "http://127.0.0.1:9/", ""), server.WithObserver(rec))
			for range 5 { // more than max_conns: refused connections hold no slot
				c := dial(t, hostPort(r.URL), 5*time.Second)
				status, err := readStatus(c)
				c.Close()
				if status != http.StatusForbidden {
					t.Fatalf("outsider's idle connection got %d (%v), want 403 at once", status, err)
				}
			}
			if ev := rec.last(); ev.RejectCode != "source_not_allowed" {
				t.Errorf("observer saw %+v, want source_not_allowed", ev)
			}
		})
	}
}

// hostPort returns the host:port of a router URL.
func hostPort(url string) string {
	return strings.SplitN(strings.TrimPrefix(url, "http://"), "/", 2)[0]
}

// dialOK opens a connection and proves it is being served by sending nothing: a held idle
// connection. It waits a moment so the router has accepted it before the next dial.
func dialOK(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	return c
}

// rawPost sends one gift callback on a new connection and returns the status and body.
func rawPost(t *testing.T, addr string) (int, string) {
	t.Helper()
	c := dial(t, addr, 10*time.Second)
	req := "POST /?SdkAppid=1400000001&CallbackCommand=" + giftCommand + " HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: " +
		strconv.Itoa(len(giftBody)) + "\r\n\r\n" + giftBody
	if _, err := c.Write([]byte(req)); err != nil {
		return 0, err.Error()
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err.Error()
	}
	defer resp.Body.Close()
	var b strings.Builder
	bufio.NewReader(resp.Body).WriteTo(&b)
	return resp.StatusCode, b.String()
}
