package server_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestUpstreamGetsExactBytes: the upstream receives Tencent's bytes as sent (IDs above 2^53
// intact, odd spacing kept) and Tencent's query string, plus the router's headers.
func TestUpstreamGetsExactBytes(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, configFor(giftCommand, up.URL+"/tencent?app=own", ""))
	body := "{ \"CallbackCommand\" : \"Live.CallbackBeforeSendGift\",\n \"Member_Account\": 144115233775727695, \"Big\": 18446744073709551615 }"
	query := "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android"
	a := r.do(t, http.MethodPost, r.URL+"?"+query, body)
	if a.Status != 200 || a.Body != upstreamtest.AllowBody {
		t.Fatalf("got %d %s", a.Status, a.Body)
	}
	reqs := up.Requests()
	if len(reqs) != 1 {
		t.Fatalf("upstream got %d requests, want 1", len(reqs))
	}
	got := reqs[0]
	if string(got.Body) != body {
		t.Errorf("upstream body = %q, want the exact bytes %q", got.Body, body)
	}
	if got, want := got.RawQuery, "app=own&"+query; got != want {
		t.Errorf("upstream query = %q, want %q", got, want)
	}
	if got, want := got.Path, "/tencent"; got != want {
		t.Errorf("upstream path = %q, want %q", got, want)
	}
	for _, h := range []string{"X-Request-Id", "X-Callback-Attempt", "X-Callback-Deadline-Ms", "X-Forwarded-For"} {
		if got.Header.Get(h) == "" {
			t.Errorf("upstream request lacks %s", h)
		}
	}
	if got, want := got.Header.Get("X-Request-Id"), a.Header.Get("X-Request-Id"); got != want {
		t.Errorf("X-Request-Id to upstream %q, to Tencent %q: want the same", got, want)
	}
	if got, want := got.Header.Get("X-Forwarded-For"), "127.0.0.1"; got != want {
		t.Errorf("X-Forwarded-For = %q, want %q", got, want)
	}
}

// TestTencentGetsUpstreamBodyVerbatim: on success Tencent gets the upstream's bytes as they
// were — a MsgBody rewrite, a deny with a pass-through code, unusual spacing.
func TestTencentGetsUpstreamBodyVerbatim(t *testing.T) {
	tests := []struct {
		name, command, answer string
	}{
		{"MsgBody rewrite", "Group.CallbackBeforeSendMsg", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"***"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"CustomElement.MemberLevel","Data":"LV1"}}],"CloudCustomData":"your cloud custom data"}`},
		{"gift denied with a pass-through code", giftCommand, `{"ActionStatus":"OK","ErrorInfo":"insufficient balance","ErrorCode":102101}`},
		{"message dropped silently", "Group.CallbackBeforeSendMsg", `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":2}`},
		{"spacing and big numbers kept", "Group.CallbackBeforeSendMsg", "{\n  \"ErrorCode\" : 0 ,\"Id\": 144115233775727695 }"},
		{"deny with FAIL status", giftCommand, `{"ActionStatus":"FAIL","ErrorCode":1,"ErrorInfo":"no"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, tt.answer))
			r := startRouter(t, configFor(tt.command, up.URL, ""))
			a := r.post(t, tt.command, `{"CallbackCommand":"`+tt.command+`"}`)
			if a.Status != 200 || a.Body != tt.answer || a.Fallback != "" {
				t.Errorf("got %d %q (fallback %q), want 200 %q", a.Status, a.Body, a.Fallback, tt.answer)
			}
			if ct := a.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
				t.Errorf("Content-Type %q", ct)
			}
		})
	}
}

// TestMultipartBodyPassesVerbatim: a body labelled multipart/form-data is still a body to
// pass on as it came. fasthttp parses such a form by default and hands back a body written
// anew from the parsed parts, without what follows the closing boundary, so the upstream
// (and a Sign computed over the body) would see other bytes than Tencent sent.
func TestMultipartBodyPassesVerbatim(t *testing.T) {
	body := "--XX\r\nContent-Disposition: form-data; name=\"CallbackCommand\"\r\n\r\n" + giftCommand +
		"\r\n--XX--\r\n{\"trailing\": \"bytes after the closing boundary\"}"
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			up := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, configWith("server: {engine: "+engine+"}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
			req, err := http.NewRequest(http.MethodPost, r.URL+"?SdkAppid=1400000001&CallbackCommand="+giftCommand, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "multipart/form-data; boundary=XX")
			resp, err := client.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			reqs := up.Requests()
			if resp.StatusCode != http.StatusOK || len(reqs) != 1 {
				t.Fatalf("answer %d, upstream got %d requests; want 200 and 1", resp.StatusCode, len(reqs))
			}
			if got := string(reqs[0].Body); got != body {
				t.Errorf("upstream body = %q, want the exact bytes %q", got, body)
			}
		})
	}
}
