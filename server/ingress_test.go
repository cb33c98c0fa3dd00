package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/router"
)

// TestIngressRefusals covers the refusals hardening added: the source allow-list, X-Forwarded-For
// only from trusted proxies, a query naming a parameter twice with different values, bodies
// that are not UTF-8 or nest too deep. Each is a clear 4xx and no upstream call, on both engines.
func TestIngressRefusals(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			open := startRouter(t, configWith("server: {engine: "+engine+"}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
			walled := startRouter(t, configWith("server: {engine: "+engine+"}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [203.0.113.0/24]}", giftCommand, up.URL, ""))
			proxied := startRouter(t, configWith("server: {engine: "+engine+", trusted_proxies: [127.0.0.1]}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [203.0.113.0/24]}", giftCommand, up.URL, ""))
			// The test client (127.0.0.1) is allowed but no proxy is trusted: its X-Forwarded-For
			// reaches the handler and must not change the source.
			self := startRouter(t, configWith("server: {engine: "+engine+", max_body_bytes: 4096}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [127.0.0.0/8]}", giftCommand, up.URL, ""))
			proxiedSmall := startRouter(t, configWith("server: {engine: "+engine+", trusted_proxies: [127.0.0.1], max_body_bytes: 4096}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [203.0.113.0/24]}", giftCommand, up.URL, ""))
			tooLarge := `{"CallbackCommand":"` + giftCommand + `","Pad":"` + strings.Repeat("x", 8192) + `"}`
			query := "SdkAppid=1400000001&CallbackCommand=" + giftCommand
			tests := []struct {
				name       string
				r          *testRouter
				query, xff string
				body       string
				wantStatus int
				wantError  string
			}{
				{"source outside allowed_cidrs", walled, query, "", giftBody, 403, "source_not_allowed"},
				{"outsider naming an allowed client", walled, query, "203.0.113.7", giftBody, 403, "source_not_allowed"},
				{"X-Forwarded-For from an untrusted peer is ignored", self, query, "198.51.100.9", giftBody, 200, ""},
				{"spoofed line before the proxy's own", proxied, query, "203.0.113.7\n198.51.100.9", giftBody, 403, "source_not_allowed"},
				{"body too large behind a trusted proxy", proxiedSmall, query, "203.0.113.7", tooLarge, 413, "body_too_large"},
				{"trusted proxy names an allowed client", proxied, query, "203.0.113.7", giftBody, 200, ""},
				{"trusted proxy names another client", proxied, query, "198.51.100.9", giftBody, 403, "source_not_allowed"},
				{"spoofed hop left of the real client", proxied, query, "203.0.113.7, 198.51.100.9", giftBody, 403, "source_not_allowed"},
				{"SdkAppid twice with different values", open, "SdkAppid=1400000001&sdkappid=1400000002&CallbackCommand=" + giftCommand, "", giftBody, 400, "ambiguous_query"},
				{"SdkAppid hidden in a percent-encoded name", open, "Sdk%41ppid=1400000002&SdkAppid=1400000001&CallbackCommand=" + giftCommand, "", giftBody, 400, "ambiguous_query"},
				{"body not UTF-8", open, query, "", `{"CallbackCommand":"` + giftCommand + "\",\"Text\":\"\xff\xfe\"}", 400, "body_not_utf8"},
				{"body nested 65 deep", open, query, "", `{"a":` + strings.Repeat("[", 64) + strings.Repeat("]", 64) + `}`, 400, "body_too_deep"},
				{"body nested 64 deep passes", open, query, "", `{"a":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`, 200, ""},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := up.Hits()
					req, _ := http.NewRequest(http.MethodPost, tt.r.URL+"?"+tt.query, strings.NewReader(tt.body))
					if tt.xff != "" {
						for _, line := range strings.Split(tt.xff, "\n") { // one header line each
							req.Header.Add("X-Forwarded-For", line)
						}
					}
					resp, err := client.Do(req)
					if err != nil {
						t.Fatal(err)
					}
					defer resp.Body.Close()
					if got, want := resp.StatusCode, tt.wantStatus; got != want {
						t.Errorf("status = %d, want %d", got, want)
					}
					if tt.wantError == "" {
						if got := up.Hits() - before; got != 1 {
							t.Errorf("upstream called %d times, want 1", got)
						}
						return
					}
					var e struct{ Error string }
					if err := json.NewDecoder(resp.Body).Decode(&e); err != nil || e.Error != tt.wantError {
						t.Errorf("error = %q (%v), want %q", e.Error, err, tt.wantError)
					}
					if got := up.Hits() - before; got != 0 {
						t.Errorf("upstream called %d times, want 0", got)
					}
				})
			}
		})
	}
}

// TestSwappedTableIngressAppliesAtOnce: the source policy and server.max_json_depth are the
// route table's, compiled with it: the next callback after a swap (a reload) is checked
// against the new table's, on the connection the old one let in.
func TestSwappedTableIngressAppliesAtOnce(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, configFor(giftCommand, up.URL, ""))
	swap := func(top string) {
		t.Helper()
		r.srv.Swap(routertest.Table(t, configWith(top, giftCommand, up.URL, ""), router.Options{}))
	}
	nested := `{"CallbackCommand":"` + giftCommand + `","a":` + strings.Repeat("[", 10) + strings.Repeat("]", 10) + `}`
	steps := []struct {
		name       string
		top        string // the swapped-in table's server and tencent keys; "" keeps the table
		body       string
		wantStatus int
	}{
		{"11 deep under the default depth", "", nested, 200},
		{"11 deep over max_json_depth 8", "server: {max_json_depth: 8}\ntencent: {sdk_app_ids: [1400000001], allowed_cidrs: [127.0.0.0/8]}", nested, 400},
		{"loopback outside the new allowed_cidrs", "tencent: {sdk_app_ids: [1400000001], allowed_cidrs: [203.0.113.0/24]}", giftBody, 403},
		{"loopback inside allowed_cidrs again", "tencent: {sdk_app_ids: [1400000001], allowed_cidrs: [127.0.0.0/8]}", giftBody, 200},
	}
	for _, s := range steps {
		if s.top != "" {
			swap(s.top)
		}
		if got := r.post(t, giftCommand, s.body).Status; got != s.wantStatus {
			t.Errorf("%s: status = %d, want %d", s.name, got, s.wantStatus)
		}
	}
}
