package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/testutil"
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
	signed := func(app, token string) string {
		if token == "" {
			return "SdkAppid=" + app + "&CallbackCommand=" + giftCommand
		}
		return signedQuery(app, giftCommand, token)
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

// TestForwardsNameCommandAndApp: every call an upstream gets — a synchronous forward, an
// async delivery and a journaled verdict — carries X-Callback-Command and X-Callback-App.
func TestForwardsNameCommandAndApp(t *testing.T) {
	gifts := upstreamtest.Start(t, upstreamtest.OK())
	audit := upstreamtest.Start(t, upstreamtest.OK())
	moderation := upstreamtest.Start(t, upstreamtest.FailFirst(1, http.StatusInternalServerError, upstreamtest.OK()))
	r := startRouter(t, `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod}
    - {sdk_app_id: 1400000002, name: staging}
upstreams:
  gifts: {url: "`+gifts.URL+`"}
  audit: {url: "`+audit.URL+`"}
  moderation: {url: "`+moderation.URL+`"}
routes:
  - commands: ["`+giftCommand+`"]
    upstream: gifts
  - commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
  - commands: ["Group.CallbackBeforeSendMsg"]
    apps: [staging]
    upstream: moderation
    retries: 0
    journal: true
`)
	send := func(app, command string) answer {
		return r.do(t, http.MethodPost, r.URL+"?SdkAppid="+app+"&CallbackCommand="+command+"&contenttype=json",
			`{"CallbackCommand":"`+command+`"}`)
	}
	if a := send("1400000001", giftCommand); a.Status != 200 || a.Fallback != "" {
		t.Fatalf("gift: %d %q, want the upstream's answer", a.Status, a.Fallback)
	}
	if a := send("1400000002", "Live.CallbackAfterEnterRoom"); a.Status != 200 {
		t.Fatalf("async: %d", a.Status)
	}
	if a := send("1400000002", "Group.CallbackBeforeSendMsg"); a.Fallback != "upstream_error" {
		t.Fatalf("moderation: fallback %q, want upstream_error", a.Fallback)
	}
	testutil.Eventually(t, "the audit delivery and both moderation calls", func() bool { return audit.Hits() == 1 && moderation.Hits() == 2 })
	for _, c := range []struct {
		what         string
		req          upstreamtest.Request
		command, app string
	}{
		{"synchronous forward", gifts.Requests()[0], giftCommand, "prod"},
		{"async delivery", audit.Requests()[0], "Live.CallbackAfterEnterRoom", "staging"},
		{"failed forward", moderation.Requests()[0], "Group.CallbackBeforeSendMsg", "staging"},
		{"journaled verdict", moderation.Requests()[1], "Group.CallbackBeforeSendMsg", "staging"},
	} {
		if got := c.req.Header.Get("X-Callback-Command"); got != c.command {
			t.Errorf("%s: X-Callback-Command %q, want %q", c.what, got, c.command)
		}
		if got := c.req.Header.Get("X-Callback-App"); got != c.app {
			t.Errorf("%s: X-Callback-App %q, want %q", c.what, got, c.app)
		}
	}
}

// TestBodyMayNotNameAnotherApp: Tencent names a callback's app in the query (a TRTC event's
// in its SdkAppId header), never in the body. Handlers that merge the query and the body
// (Laravel's $request->input(), a Java handler putting every query parameter into the body)
// read a SdkAppid written in the body, over the query's or beside it: a callback signed with
// staging's token that names prod in its body would reach them as prod's. Such a body is
// refused; one naming the callback's own app, as a merging proxy would, is served.
func TestBodyMayNotNameAnotherApp(t *testing.T) {
	shared := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [prod-token], trtc_key: `+trtcProdKey+`}
    - {sdk_app_id: 1400000002, name: staging, tokens: [staging-token], trtc_key: `+trtcStagingKey+`}
upstreams:
  shared: {url: "`+shared.URL+`"}
routes:
  - commands: ["*"]
    upstream: shared
`)
	stagingQuery := signedQuery("1400000002", giftCommand, "staging-token")
	gift := func(member string) string {
		return `{"CallbackCommand":"` + giftCommand + `",` + member + `,"GiftId":"rocket"}`
	}
	trtcEvent := func(member string) string {
		return `{"EventGroupId":1,"EventType":103,` + member + `,"EventInfo":{"RoomId":"r1","UserId":"u1"}}`
	}
	tests := []struct {
		name       string
		trtc       bool
		body       string
		wantStatus int
	}{
		{name: "the body names prod", body: gift(`"SdkAppid":"1400000001"`), wantStatus: 400},
		{name: "in another letter case", body: gift(`"sdkappid":"1400000001"`), wantStatus: 400},
		{name: "escaped", body: gift(`"Sdk\u0041ppid":"1400000001"`), wantStatus: 400},
		{name: "as a number", body: gift(`"SdkAppId":1400000001`), wantStatus: 400},
		{name: "nested names are not the app", body: gift(`"Info":{"SdkAppid":"1400000001"}`), wantStatus: 200},
		{name: "the body names the callback's own app", body: gift(`"SdkAppid":"1400000002"`), wantStatus: 200},
		{name: "a TRTC event whose body names prod", trtc: true, body: trtcEvent(`"SdkAppId":"1400000001"`), wantStatus: 400},
		{name: "a TRTC event whose body names its own app", trtc: true, body: trtcEvent(`"SdkAppId":1400000002`), wantStatus: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := shared.Hits()
			var a answer
			if tt.trtc {
				a = r.postTRTC(t, r.URL, "1400000002", tencent.SignTRTC(trtcStagingKey, []byte(tt.body)), tt.body)
			} else {
				a = r.do(t, http.MethodPost, r.URL+"?"+stagingQuery, tt.body)
			}
			if a.Status != tt.wantStatus {
				t.Fatalf("status: got %d, want %d (body %s)", a.Status, tt.wantStatus, a.Body)
			}
			if reached := shared.Hits() > before; reached != (tt.wantStatus == 200) {
				t.Errorf("upstream reached: got %v, want %v", reached, tt.wantStatus == 200)
			}
			if tt.wantStatus == 400 && !strings.Contains(a.Body, `"ambiguous_query"`) {
				t.Errorf("refusal %s, want ambiguous_query", a.Body)
			}
		})
	}
}
