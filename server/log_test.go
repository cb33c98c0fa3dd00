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

// TestOneLogLinePerCallback: every callback leaves exactly one JSON line with the design's
// fields, and neither the token nor the Sign ever appears in the log.
func TestOneLogLinePerCallback(t *testing.T) {
	const token = "super-secret-token"
	up := upstreamtest.Start(t, upstreamtest.FailFirst(1, 503, upstreamtest.OK()))
	r := startRouter(t, configWith(`tencent: {sdk_app_ids: [1400000001], auth_token: "`+token+`"}`, giftCommand, up.URL, ""))
	now := strconv.FormatInt(time.Now().Unix(), 10)
	sign := tencent.Sign(token, now)
	q := "SdkAppid=1400000001&CallbackCommand=" + giftCommand + "&RequestTime=" + now + "&Sign=" + sign
	ok := r.do(t, http.MethodPost, r.URL+"?"+q, giftBody)
	bad := r.do(t, http.MethodPost, r.URL+"?SdkAppid=1400000001&"+signature("wrong", time.Now()), giftBody)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(r.logs.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", l)
		}
		if m["message"] == "callback" {
			lines = append(lines, m)
		}
	}
	if len(lines) != 2 {
		t.Fatalf("%d callback lines, want 2:\n%s", len(lines), r.logs.String())
	}
	want := map[string]any{
		"request_id": ok.Header.Get("X-Request-Id"), "command": giftCommand, "sdk_app_id": "1400000001",
		"route": giftCommand, "upstream": "up", "attempts": 2.0, "status": 200.0, "decision": "upstream",
		"upstream_status": 200.0,
	}
	for k, v := range want {
		if got := lines[0][k]; got != v {
			t.Errorf("line 1: %s = %v, want %v", k, got, v)
		}
	}
	if _, ok := lines[0]["latency_ms"].(float64); !ok {
		t.Errorf("line 1 has no numeric latency_ms: %v", lines[0])
	}
	if got, want := lines[1]["decision"], "rejected"; got != want {
		t.Errorf("line 2: decision = %v, want %v", got, want)
	}
	if got, want := lines[1]["request_id"], bad.Header.Get("X-Request-Id"); got != want {
		t.Errorf("line 2: request_id = %v, want %v", got, want)
	}
	for _, secret := range []string{token, sign} {
		if strings.Contains(r.logs.String(), secret) {
			t.Errorf("log contains a secret %q", secret)
		}
	}
}

// TestUpstreamURLSecretsStayOutOfLogs: an upstream URL's query may carry a credential (an
// api_key; config refuses userinfo); when the upstream refuses or resets the connection, the
// callback's log line names the failure without it.
func TestUpstreamURLSecretsStayOutOfLogs(t *testing.T) {
	for _, tc := range upstreamtest.Unreachable {
		t.Run(tc.Name, func(t *testing.T) {
			url := "http://" + tc.Addr(t) + "/gifts?api_key=SECRET"
			r := startRouter(t, configFor(giftCommand, url, giftDeny))
			if got := r.post(t, giftCommand, giftBody); got.Fallback != "upstream_error" {
				t.Fatalf("fallback = %q, want upstream_error", got.Fallback)
			}
			logs := r.logs.String()
			if !strings.Contains(logs, `"error":`) {
				t.Fatalf("no error logged for the failed upstream:\n%s", logs)
			}
			for _, secret := range []string{"SECRET", "api_key"} {
				if strings.Contains(logs, secret) {
					t.Errorf("log contains %q:\n%s", secret, logs)
				}
			}
		})
	}
}
