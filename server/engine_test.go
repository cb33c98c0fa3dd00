package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestEnginesServeAlike runs the same callbacks through both connection layers: the wire
// behaviour is the Handler's, whichever engine moves the bytes.
func TestEnginesServeAlike(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			hung := upstreamtest.Start(t, nil)
			hung.Set(hung.Hang())
			r := startRouter(t, `
server: {engine: `+engine+`, max_body_bytes: 1024}
tencent: {sdk_app_ids: [1400000001]}
upstreams:
  up: {url: "`+up.URL+`/cb?own=1"}
  hung: {url: "`+hung.URL+`"}
routes:
  - commands: ["`+giftCommand+`"]
    upstream: up
  - commands: ["Group.CallbackBeforeSendMsg"]
    upstream: hung
    deadline: 200ms
    fallback: {action: deny, error_code: 2}
`)
			tests := []struct {
				name, method, query, body string
				wantStatus                int
				wantBody, wantFallback    string
			}{
				{"forwarded", http.MethodPost, "SdkAppid=1400000001&CallbackCommand=" + giftCommand, giftBody, 200, allowEnvelope, ""},
				{"timeout fallback", http.MethodPost, "SdkAppid=1400000001&CallbackCommand=Group.CallbackBeforeSendMsg", "{}", 200, `{"ActionStatus":"OK","ErrorCode":2,"ErrorInfo":""}`, "timeout"},
				{"405 before 413", http.MethodPut, "SdkAppid=1400000001", strings.Repeat("x", 4096), 405, "", ""},
				{"413", http.MethodPost, "SdkAppid=1400000001", strings.Repeat("x", 4096), 413, "", ""},
				{"403", http.MethodPost, "SdkAppid=9", giftBody, 403, "", ""},
				{"400", http.MethodPost, "SdkAppid=1400000001", "{}", 400, "", ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					a := r.do(t, tt.method, r.URL+"?"+tt.query, tt.body)
					if a.Status != tt.wantStatus || a.Fallback != tt.wantFallback {
						t.Errorf("got %d (fallback %q) %s, want %d (fallback %q)", a.Status, a.Fallback, a.Body, tt.wantStatus, tt.wantFallback)
					}
					if tt.wantBody != "" && a.Body != tt.wantBody {
						t.Errorf("body %s, want %s", a.Body, tt.wantBody)
					}
					if a.Header.Get("X-Request-Id") == "" {
						t.Error("no X-Request-Id")
					}
				})
			}
			reqs := up.Requests()
			if len(reqs) != 1 || string(reqs[0].Body) != giftBody || reqs[0].RawQuery != "own=1&SdkAppid=1400000001&CallbackCommand="+giftCommand {
				t.Errorf("upstream got %+v, want the exact body and query once", reqs)
			}
		})
	}
}
