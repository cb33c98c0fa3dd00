package server_test

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// TestUnparseableRequestsLogNoSecrets writes, over raw sockets, requests the connection
// layer cannot parse or read whole — each carrying a valid Sign in its query and a marker in
// its body — and checks that the log names what was wrong by kind, and never holds the
// Sign, the query or the body: a Sign is good for any body for a minute, so a log reader
// could forge callbacks with it.
func TestUnparseableRequestsLogNoSecrets(t *testing.T) {
	const token, bodyMarker, queryMarker = "conn-token-91c4", "BODY-MARKER-5e1f", "QueryMarker7d2a"
	now := strconv.FormatInt(time.Now().Unix(), 10)
	sign := tencent.Sign(token, now)
	target := "/?SdkAppid=1400000001&CallbackCommand=" + giftCommand + "&" + queryMarker + "=1&contenttype=json&Sign=" + sign + "&RequestTime=" + now
	body := `{"CallbackCommand":"` + giftCommand + `","Note":"` + bodyMarker + `"}`
	tests := []struct {
		name string
		send func(c net.Conn)
		// kind is the error the callback line names, on the engines that log one.
		kind string
	}{
		{"NUL in a header value", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00b\r\nContent-Length: %d\r\n\r\n%s", target, len(body), body)
		}, "invalid header"},
		{"control character in a header name", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nBad\x01Name: v\r\nContent-Length: %d\r\n\r\n%s", target, len(body), body)
		}, "invalid header"},
		{"headers over max_header_bytes", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Big: %s\r\n\r\n%s", target, len(body), strings.Repeat("a", 8192), body)
		}, ""},
		{"headers stalled past read_header_timeout", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Note: %s", target, len(body), bodyMarker)
		}, ""},
		{"body shorter than its Content-Length", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, len(body)+10, body)
		}, ""},
		{"Content-Length not a number", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1%s\r\n\r\n%s", target, bodyMarker, body)
		}, "invalid content-length"},
		{"chunk size not hex", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n", target, bodyMarker, body)
		}, ""},
		{"unsupported HTTP version", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s HTTP/7.%s\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, bodyMarker, len(body), body)
		}, ""},
		{"space in the request target", func(c net.Conn) {
			fmt.Fprintf(c, "POST %s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, bodyMarker, len(body), body)
		}, ""},
	}
	secrets := []string{sign, queryMarker, bodyMarker, token, "Sign=", "RequestTime="}
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith("server: {engine: "+engine+", "+hostileServer+"}\ntencent: {sdk_app_ids: [1400000001], auth_token: "+token+"}", giftCommand, up.URL, ""))
			addr := hostPort(r.URL)
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := len(r.logs.String())
					c := dial(t, addr, 10*time.Second)
					go tt.send(c)
					if status, _ := readStatus(c); status == http.StatusOK {
						t.Errorf("got 200: the request was taken as a callback")
					}
					c.Close()
					time.Sleep(50 * time.Millisecond) // the connection's goroutine logs after closing it
					logs := r.logs.String()[before:]
					for _, s := range secrets {
						if strings.Contains(logs, s) {
							t.Errorf("the log holds %q:\n%s", s, logs)
						}
					}
					if tt.kind != "" && engine == "fasthttp" && !strings.Contains(logs, `"error":"`+tt.kind+`"`) {
						t.Errorf("the log does not name the error %q:\n%s", tt.kind, logs)
					}
					for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
						if l != "" && !json.Valid([]byte(l)) {
							t.Errorf("log line is not JSON: %q", l)
						}
					}
				})
			}
			if hits := up.Hits(); hits != 0 {
				t.Errorf("upstream called %d times, want never", hits)
			}
		})
	}
}
