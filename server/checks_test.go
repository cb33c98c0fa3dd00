package server_test

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestChecksInOrder sends requests that fail one or several checks and expects the first
// failing check of the design's order (405, 413, 403, 401, 400) — and no upstream call.
func TestChecksInOrder(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	const token = "console-token"
	r := startRouter(t, configWith(`
server: {max_body_bytes: 1024}
tencent: {sdk_app_ids: [1400000001], auth_token: "`+token+`"}`, giftCommand, up.URL, ""))
	now := strconv.FormatInt(time.Now().Unix(), 10)
	good := signedQuery("1400000001", giftCommand, token)
	big := `{"CallbackCommand":"` + giftCommand + `","Pad":"` + strings.Repeat("x", 2000) + `"}`

	tests := []struct {
		name, method, query, body string
		wantStatus                int
		wantError                 string
	}{
		{"GET", http.MethodGet, good, giftBody, 405, "method_not_allowed"},
		{"GET with every other check failing too", http.MethodGet, "SdkAppid=1", big, 405, "method_not_allowed"},
		{"PUT", http.MethodPut, good, giftBody, 405, "method_not_allowed"},
		{"body over max_body_bytes", http.MethodPost, good, big, 413, "body_too_large"},
		{"body over limit from an unserved app without a Sign", http.MethodPost, "SdkAppid=1", big, 413, "body_too_large"},
		{"app not served", http.MethodPost, strings.Replace(good, "1400000001", "1400000002", 1), giftBody, 403, "app_not_served"},
		{"app missing", http.MethodPost, "CallbackCommand=" + giftCommand, giftBody, 403, "app_not_served"},
		{"app not served and no Sign", http.MethodPost, "SdkAppid=7", giftBody, 403, "app_not_served"},
		{"Sign missing", http.MethodPost, "SdkAppid=1400000001&CallbackCommand=" + giftCommand, giftBody, 401, "bad_signature"},
		{"Sign wrong", http.MethodPost, "SdkAppid=1400000001&" + signature("other", time.Now()), giftBody, 401, "bad_signature"},
		{"RequestTime outside skew", http.MethodPost, "SdkAppid=1400000001&" + signature(token, time.Now().Add(-2*time.Minute)), giftBody, 401, "bad_signature"},
		{"Sign wrong length", http.MethodPost, "SdkAppid=1400000001&RequestTime=" + now + "&Sign=abc", giftBody, 401, "bad_signature"},
		{"no command in query or body", http.MethodPost, "SdkAppid=1400000001&" + signature(token, time.Now()), `{"RoomId":"r"}`, 400, "no_command"},
		{"no command, body not JSON", http.MethodPost, "SdkAppid=1400000001&" + signature(token, time.Now()), `<html>`, 400, "no_command"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := up.Hits()
			a := r.do(t, tt.method, r.URL+"?"+tt.query, tt.body)
			if got, want := a.Status, tt.wantStatus; got != want {
				t.Errorf("status = %d, want %d (body %s)", got, want, a.Body)
			}
			var e struct{ Error, Message, RequestID string }
			if err := json.Unmarshal([]byte(a.Body), &e); err != nil {
				t.Fatalf("error body is not JSON: %q", a.Body)
			}
			if got, want := e.Error, tt.wantError; got != want {
				t.Errorf("error = %q, want %q", got, want)
			}
			if got := a.Header.Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
				t.Errorf("Content-Type = %q, want JSON", got)
			}
			if got := up.Hits() - before; got != 0 {
				t.Errorf("upstream called %d times, want 0", got)
			}
		})
	}

	t.Run("a good request passes every check", func(t *testing.T) {
		a := r.do(t, http.MethodPost, r.URL+"?"+good, giftBody)
		if a.Status != 200 || a.Fallback != "" {
			t.Errorf("got %d fallback %q, want 200 from upstream", a.Status, a.Fallback)
		}
	})
	t.Run("405 says Allow: POST", func(t *testing.T) {
		a := r.do(t, http.MethodGet, r.URL+"?"+good, "")
		if got, want := a.Header.Get("Allow"), "POST"; got != want {
			t.Errorf("Allow = %q, want %q", got, want)
		}
	})
	t.Run("another path is 404", func(t *testing.T) {
		a := r.do(t, http.MethodPost, strings.TrimSuffix(r.URL, "/")+"/other?"+good, giftBody)
		if got, want := a.Status, 404; got != want {
			t.Errorf("status = %d, want %d", got, want)
		}
	})
}

// TestQueryParameterNamesIgnoreCase accepts Tencent's spellings of the parameter names.
func TestQueryParameterNamesIgnoreCase(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, configFor(giftCommand, up.URL, ""))
	for _, q := range []string{
		"SdkAppid=1400000001&CallbackCommand=" + giftCommand,
		"SdkAppId=1400000001&callbackcommand=" + giftCommand,
		"sdkappid=1400000001&CALLBACKCOMMAND=" + giftCommand,
		"SDKAPPID=1400000001&WebhookCommand=" + giftCommand,
	} {
		t.Run(q, func(t *testing.T) {
			before := up.Hits()
			a := r.do(t, http.MethodPost, r.URL+"?"+q, `{"no":"command in body"}`)
			if a.Status != 200 || a.Fallback != "" || up.Hits() != before+1 {
				t.Errorf("got %d fallback %q, upstream hits +%d; want the gift route", a.Status, a.Fallback, up.Hits()-before)
			}
		})
	}
}
