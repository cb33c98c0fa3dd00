package server_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// TestAppsVerifyAndRouteOnTheirOwn serves two apps with their own tokens and gift routes: a
// callback is verified with its own app's tokens only and reaches its own app's upstream.
func TestAppsVerifyAndRouteOnTheirOwn(t *testing.T) {
	prodUp := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"prod"}`))
	stagingUp := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"staging"}`))
	r := startRouter(t, `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [prod-old, prod-new]}
    - {sdk_app_id: 1400000002, name: staging, tokens: [staging-token]}
    - {sdk_app_id: 1400000003, name: open}
upstreams:
  prod: {url: "`+prodUp.URL+`"}
  staging: {url: "`+stagingUp.URL+`"}
routes:
  - commands: ["`+giftCommand+`"]
    upstream: prod
  - commands: ["`+giftCommand+`"]
    apps: [staging]
    upstream: staging
`)
	now := strconv.FormatInt(time.Now().Unix(), 10)
	signed := func(app, token string) string {
		q := "SdkAppid=" + app + "&CallbackCommand=" + giftCommand + "&RequestTime=" + now
		if token != "" {
			q += "&Sign=" + tencent.Sign(token, now)
		}
		return q
	}
	tests := []struct {
		name       string
		query      string
		wantStatus int
		wantFrom   string // the upstream whose answer came back; "" for a refusal
		wantApp    string // in the log line
	}{
		{name: "prod with its new token", query: signed("1400000001", "prod-new"), wantStatus: 200, wantFrom: "prod", wantApp: "prod"},
		{name: "prod with its old token", query: signed("1400000001", "prod-old"), wantStatus: 200, wantFrom: "prod", wantApp: "prod"},
		{name: "staging with its token", query: signed("1400000002", "staging-token"), wantStatus: 200, wantFrom: "staging", wantApp: "staging"},
		{name: "prod signed with staging's token", query: signed("1400000001", "staging-token"), wantStatus: 401, wantApp: "prod"},
		{name: "staging signed with prod's token", query: signed("1400000002", "prod-new"), wantStatus: 401, wantApp: "staging"},
		{name: "an app without a token is served unsigned", query: signed("1400000003", ""), wantStatus: 200, wantFrom: "prod", wantApp: "open"},
		{name: "an app not served", query: signed("1400000004", "prod-new"), wantStatus: 403, wantApp: "none"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.do(t, http.MethodPost, r.URL+"?"+tt.query, giftBody)
			if got, want := a.Status, tt.wantStatus; got != want {
				t.Fatalf("status: got %d, want %d (body %s)", got, want, a.Body)
			}
			if tt.wantFrom != "" {
				var env struct{ ErrorInfo string }
				if err := json.Unmarshal([]byte(a.Body), &env); err != nil || env.ErrorInfo != tt.wantFrom {
					t.Errorf("answer %s: got it from %q, want from %q", a.Body, env.ErrorInfo, tt.wantFrom)
				}
			}
			line := r.logLine(t, a.Header.Get("X-Request-Id"))
			if got, want := line["app"], tt.wantApp; got != want {
				t.Errorf("log line app: got %v, want %q", got, want)
			}
		})
	}
	for _, secret := range []string{"prod-old", "prod-new", "staging-token"} {
		if strings.Contains(r.logs.String(), secret) {
			t.Errorf("the log reveals the token %q", secret)
		}
	}
}

// logLine returns the decoded log line of a request.
func (r *testRouter) logLine(t *testing.T, requestID string) map[string]any {
	t.Helper()
	for _, line := range strings.Split(r.logs.String(), "\n") {
		if !strings.Contains(line, `"request_id":"`+requestID+`"`) {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		return m
	}
	t.Fatalf("no log line for request %q in:\n%s", requestID, r.logs.String())
	return nil
}
