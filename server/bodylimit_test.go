package server_test

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestOversizedBodyIs413 sends bodies over server.max_body_bytes, framed by Content-Length
// and chunked, on both engines: a POST is 413 body_too_large, logged with its app; another
// method is 405 first, as the design orders the checks; none reaches the upstream. The
// limit is small so that each request fits one write, and the router reads all of it before
// it answers and closes: a close with unread bytes would reset the connection under the
// answer.
func TestOversizedBodyIs413(t *testing.T) {
	big := `{"CallbackCommand":"` + giftCommand + `","Pad":"` + strings.Repeat("x", 2048) + `"}`
	const target = "/?SdkAppid=1400000001&CallbackCommand=" + giftCommand
	chunked := fmt.Sprintf("Transfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n", 1000, big[:1000], len(big)-1000, big[1000:])
	tests := []struct {
		name, request string
		wantStatus    int
		wantError     string
	}{
		{"POST with a Content-Length", fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, len(big), big), 413, "body_too_large"},
		{"POST chunked", "POST " + target + " HTTP/1.1\r\nHost: x\r\n" + chunked, 413, "body_too_large"},
		{"PUT chunked", "PUT " + target + " HTTP/1.1\r\nHost: x\r\n" + chunked, 405, "method_not_allowed"},
	}
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith("server: {engine: "+engine+", max_body_bytes: 1024}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := len(r.logs.String())
					c := dial(t, hostPort(r.URL), 10*time.Second)
					if _, err := io.WriteString(c, tt.request); err != nil {
						t.Fatal(err)
					}
					resp, err := http.ReadResponse(bufio.NewReader(c), nil)
					if err != nil {
						t.Fatalf("no answer: %v", err)
					}
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					var e struct{ Error string }
					json.Unmarshal(b, &e)
					if resp.StatusCode != tt.wantStatus || e.Error != tt.wantError {
						t.Errorf("got %d %s, want %d %s", resp.StatusCode, b, tt.wantStatus, tt.wantError)
					}
					var line map[string]any
					for _, l := range strings.Split(strings.TrimSpace(r.logs.String()[before:]), "\n") {
						var m map[string]any
						if json.Unmarshal([]byte(l), &m) == nil && m["message"] == "callback" {
							line = m
						}
					}
					if line["reject_code"] != tt.wantError || line["sdk_app_id"] != "1400000001" {
						t.Errorf("log line %v, want reject_code %s and sdk_app_id 1400000001", line, tt.wantError)
					}
				})
			}
			if n := up.Hits(); n != 0 {
				t.Errorf("upstream called %d times, want 0", n)
			}
		})
	}
}
