package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestAmbiguousCommandRefused: a signed request that names two commands — query against
// body, twice in the body, WebhookCommand against CallbackCommand — is refused with 400
// ambiguous_command before any upstream is called, since the router would route by one and
// the upstream might act on the other. Each command has a route of its own, so a request
// that got through would reach one of the upstreams.
func TestAmbiguousCommandRefused(t *testing.T) {
	const token = "ambiguity-token"
	const gift, msg = giftCommand, "Group.CallbackBeforeSendMsg"
	gifts := upstreamtest.Start(t, upstreamtest.OK())
	moderation := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, `
tencent: {sdk_app_ids: [1400000001], auth_token: "`+token+`"}
upstreams:
  gifts: {url: "`+gifts.URL+`"}
  moderation: {url: "`+moderation.URL+`"}
routes:
  - commands: ["`+gift+`"]
    upstream: gifts
  - commands: ["`+msg+`"]
    upstream: moderation
  - commands: ["*"]
`)
	signed := func(extra string) string {
		return "SdkAppid=1400000001&" + extra + "&contenttype=json&" + signature(token, time.Now())
	}
	tests := []struct {
		name, query, body string
	}{
		{"query names one command, body another", "CallbackCommand=" + gift, `{"CallbackCommand":"` + msg + `","Text":"hi"}`},
		{"body names the command twice", "", `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + msg + `"}`},
		{"body names it twice, the query agreeing with the first", "CallbackCommand=" + gift, `{"CallbackCommand":"` + gift + `","CallbackCommand":"` + msg + `"}`},
		{"body names it again in another case", "CallbackCommand=" + gift, `{"CallbackCommand":"` + gift + `","callbackCommand":"` + msg + `"}`},
		{"WebhookCommand and CallbackCommand differ", "WebhookCommand=" + msg + "&CallbackCommand=" + gift, `{"RoomId":"r"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.do(t, http.MethodPost, r.URL+"?"+signed(tt.query), tt.body)
			var e struct{ Error string }
			json.Unmarshal([]byte(a.Body), &e)
			if a.Status != http.StatusBadRequest || e.Error != "ambiguous_command" {
				t.Errorf("got %d %s, want 400 ambiguous_command", a.Status, a.Body)
			}
		})
	}
	if g, m := gifts.Hits(), moderation.Hits(); g+m != 0 {
		t.Errorf("upstreams called (gifts %d, moderation %d), want never", g, m)
	}
	if !strings.Contains(r.logs.String(), `"reject_code":"ambiguous_command"`) {
		t.Errorf("no log line with reject_code ambiguous_command:\n%s", r.logs)
	}

	// Tencent's own request, the same command in query and body, goes through.
	if a := r.do(t, http.MethodPost, r.URL+"?"+signed("CallbackCommand="+gift), giftBody); a.Status != 200 || a.Fallback != "" {
		t.Errorf("Tencent's request: got %d %s (fallback %q), want the upstream's answer", a.Status, a.Body, a.Fallback)
	}
	if g := gifts.Hits(); g != 1 {
		t.Errorf("gifts called %d times for Tencent's request, want once", g)
	}
}
