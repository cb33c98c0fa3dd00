package server_test

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// trtcEnterRoom is Tencent's own sample of a TRTC event, tab-indented as TRTC sends it.
const trtcEnterRoom = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}"

const (
	trtcProdKey    = "ProdKey0123456789"
	trtcStagingKey = "StagingKey42"
	trtcStartVideo = `{"EventGroupId":2,"EventType":201,"CallbackTs":1687770731999,"EventInfo":{"RoomId":"live-7","EventTs":1687770731,"EventMsTs":1687770731990,"UserId":"anchor"}}`
	trtcRecording  = `{"EventGroupId":3,"EventType":305,"CallbackTs":1752580150082,"EventInfo":{"RoomId":"635055","EventTs":1752580150,"EventMsTs":1752580150081,"UserId":"rec_635055","TaskId":"task-1","Payload":{"Status":0}}}`
)

// postTRTC sends a TRTC event as TRTC does: no query, the app and the Sign in headers.
func (r *testRouter) postTRTC(t testing.TB, url, appID, sign, body string) answer {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if appID != "" {
		req.Header.Set("SdkAppId", appID)
	}
	if sign != "" {
		req.Header.Set("Sign", sign)
	}
	a := r.send(t, req)
	if a.Status == 0 {
		t.FailNow() // no answer at all: send said why
	}
	return a
}

// trtcConfig serves two apps with their TRTC keys (prod also with Chat tokens) and one
// open app: room events go to rooms (sync), recording events to recordings (async), a gift
// to gifts, and the rest is answered from config with a deny that TRTC events never see.
func trtcConfig(engine, rooms, recordings, gifts, extraServer string) string {
	return `
server: {engine: ` + engine + extraServer + `}
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod, tokens: [chat-token], trtc_key: ` + trtcProdKey + `}
    - {sdk_app_id: 1400000002, name: staging, trtc_key: ` + trtcStagingKey + `}
    - {sdk_app_id: 1400000003, name: open}
    - {sdk_app_id: 1400000004, name: tokensonly, tokens: [other-token]}
defaults:
  breaker: {consecutive_failures: 1000, open_for: 10s, half_open_requests: 1}
upstreams:
  rooms: {url: "` + rooms + `"}
  recordings: {url: "` + recordings + `"}
  gifts: {url: "` + gifts + `"}
routes:
  - commands: ["TRTC.1.*"]
    upstream: rooms
    deadline: 3s
  - commands: ["TRTC.3.*"]
    upstream: recordings
    async: true
  - commands: ["` + giftCommand + `"]
    upstream: gifts
  - commands: ["*"]
    fallback: {action: deny, error_code: 1, error_info: "not routed"}
`
}

// TestTRTCEvents runs TRTC events through the router on both engines: routed by
// TRTC.<group>.<type>, verified with their own app's key, passed on byte for byte with their
// headers, and answered {"code":0} whenever the router answers.
func TestTRTCEvents(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			rooms := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0,"from":"rooms"}`))
			recordings := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0}`))
			gifts := upstreamtest.Start(t, upstreamtest.OK())
			r := startRouter(t, trtcConfig(engine, rooms.URL, recordings.URL, gifts.URL, ""))

			prodSign := tencent.SignTRTC(trtcProdKey, []byte(trtcEnterRoom))
			tests := []struct {
				name         string
				app, sign    string
				body         string
				wantStatus   int
				wantBody     string // exact, when set
				wantCode     string // the error code of a refusal
				wantFallback string
				wantRooms    bool // the event reached rooms
			}{
				{name: "signed room event", app: "1400000001", sign: prodSign, body: trtcEnterRoom,
					wantStatus: 200, wantBody: `{"code":0,"from":"rooms"}`, wantRooms: true},
				{name: "staging's event with staging's key", app: "1400000002", sign: tencent.SignTRTC(trtcStagingKey, []byte(trtcEnterRoom)), body: trtcEnterRoom,
					wantStatus: 200, wantBody: `{"code":0,"from":"rooms"}`, wantRooms: true},
				{name: "an open app's unsigned event", app: "1400000003", body: trtcEnterRoom,
					wantStatus: 200, wantBody: `{"code":0,"from":"rooms"}`, wantRooms: true},
				{name: "wrong Sign", app: "1400000001", sign: tencent.SignTRTC("WrongKey", []byte(trtcEnterRoom)), body: trtcEnterRoom,
					wantStatus: 401, wantCode: "bad_signature"},
				{name: "another app's key", app: "1400000001", sign: tencent.SignTRTC(trtcStagingKey, []byte(trtcEnterRoom)), body: trtcEnterRoom,
					wantStatus: 401, wantCode: "bad_signature"},
				{name: "Sign missing", app: "1400000001", body: trtcEnterRoom, wantStatus: 401, wantCode: "bad_signature"},
				{name: "Sign of the body re-encoded", app: "1400000001", sign: tencent.SignTRTC(trtcProdKey, []byte(strings.NewReplacer("\t", "", "\n", "").Replace(trtcEnterRoom))), body: trtcEnterRoom,
					wantStatus: 401, wantCode: "bad_signature"},
				{name: "an app with tokens but no TRTC key", app: "1400000004", body: trtcEnterRoom, wantStatus: 401, wantCode: "bad_signature"},
				{name: "app not served", app: "1400000009", sign: prodSign, body: trtcEnterRoom, wantStatus: 403, wantCode: "app_not_served"},
				{name: "no SdkAppId", sign: prodSign, body: trtcEnterRoom, wantStatus: 403, wantCode: "app_not_served"},
				{name: "EventType twice", app: "1400000003", body: `{"EventGroupId":1,"EventType":103,"EventType":104}`, wantStatus: 400, wantCode: "ambiguous_command"},
				// Not recognised as TRTC's, it is checked as a Chat callback, whose app is in the query.
				{name: "not an event", app: "1400000003", body: `{"EventGroupId":"1","EventType":103}`, wantStatus: 403, wantCode: "app_not_served"},
				{name: "an event no route serves", app: "1400000003", body: trtcStartVideo,
					wantStatus: 200, wantBody: `{"code":0}`, wantFallback: "no_route"},
			}
			for _, tt := range tests {
				t.Run(tt.name, func(t *testing.T) {
					before := rooms.Hits()
					a := r.postTRTC(t, r.URL, tt.app, tt.sign, tt.body)
					if a.Status != tt.wantStatus {
						t.Fatalf("status %d, want %d; body %s", a.Status, tt.wantStatus, a.Body)
					}
					if tt.wantBody != "" && a.Body != tt.wantBody {
						t.Errorf("answer %q, want %q", a.Body, tt.wantBody)
					}
					if a.Fallback != tt.wantFallback {
						t.Errorf("X-Callback-Fallback %q, want %q", a.Fallback, tt.wantFallback)
					}
					if tt.wantCode != "" {
						var e struct{ Error string }
						if json.Unmarshal([]byte(a.Body), &e); e.Error != tt.wantCode {
							t.Errorf("error %q, want %q (%s)", e.Error, tt.wantCode, a.Body)
						}
					}
					if got := rooms.Hits() > before; got != tt.wantRooms {
						t.Fatalf("rooms reached: %v, want %v", got, tt.wantRooms)
					}
					if !tt.wantRooms {
						return
					}
					got := rooms.Requests()[rooms.Hits()-1]
					if string(got.Body) != tt.body {
						t.Errorf("rooms got body %q, want %q byte for byte", got.Body, tt.body)
					}
					for name, want := range map[string]string{"SdkAppId": tt.app, "Sign": tt.sign,
						"X-Callback-Command": "TRTC.1.103", "Content-Type": "application/json"} {
						if got := got.Header.Get(name); got != want {
							t.Errorf("rooms got %s %q, want %q", name, got, want)
						}
					}
					if got.Header.Get("X-Callback-App") == "" || got.Header.Get("X-Request-Id") != a.Header.Get("X-Request-Id") {
						t.Errorf("rooms got X-Callback-App %q, X-Request-Id %q; want the app and the answer's id %q",
							got.Header.Get("X-Callback-App"), got.Header.Get("X-Request-Id"), a.Header.Get("X-Request-Id"))
					}
				})
			}

			t.Run("async recording event", func(t *testing.T) {
				sign := tencent.SignTRTC(trtcProdKey, []byte(trtcRecording))
				a := r.postTRTC(t, r.URL, "1400000001", sign, trtcRecording)
				if a.Status != 200 || a.Body != `{"code":0}` || a.Fallback != "" {
					t.Fatalf("answer %d %q (fallback %q), want 200 {\"code\":0} at once", a.Status, a.Body, a.Fallback)
				}
				testutil.Eventually(t, "the recording's delivery", func() bool { return recordings.Hits() == 1 })
				got := recordings.Requests()[0]
				if string(got.Body) != trtcRecording {
					t.Errorf("recordings got %q, want %q", got.Body, trtcRecording)
				}
				for name, want := range map[string]string{"SdkAppId": "1400000001", "Sign": sign,
					"X-Callback-Command": "TRTC.3.305", "X-Callback-App": "prod"} {
					if got := got.Header.Get(name); got != want {
						t.Errorf("recordings got %s %q, want %q", name, got, want)
					}
				}
				// {"code":0} is a delivered TRTC event: no redelivery follows.
				time.Sleep(300 * time.Millisecond)
				if n := recordings.Hits(); n != 1 {
					t.Errorf("recordings got %d deliveries, want 1", n)
				}
			})

			t.Run("a Chat callback on the same path is named too", func(t *testing.T) {
				a := r.do(t, http.MethodPost, r.URL+"?"+signedQuery("1400000001", giftCommand, "chat-token"), giftBody)
				if a.Status != 200 || a.Body != upstreamtest.AllowBody {
					t.Fatalf("gift answer %d %q, want the upstream's", a.Status, a.Body)
				}
				got := gifts.Requests()[gifts.Hits()-1]
				if got.Header.Get("X-Callback-Command") != giftCommand || got.Header.Get("X-Callback-App") != "prod" {
					t.Errorf("gifts got X-Callback-Command %q, X-Callback-App %q", got.Header.Get("X-Callback-Command"), got.Header.Get("X-Callback-App"))
				}
				if got.Header.Get("Sign") != "" || got.Header.Get("SdkAppId") != "" {
					t.Errorf("a Chat callback got TRTC's headers: %v", got.Header)
				}
			})

			t.Run("a Chat callback may not take a TRTC name", func(t *testing.T) {
				if a := r.do(t, http.MethodPost, r.URL+"?"+signedQuery("1400000001", "TRTC.1.103", "chat-token"), trtcEnterRoom); a.Status != 400 || !strings.Contains(a.Body, "trtc_command") {
					t.Errorf("answer %d %s, want 400 trtc_command", a.Status, a.Body)
				}
			})
		})
	}
}

// TestTRTCFallbacksAnswerCode0: whatever makes the router answer a TRTC event itself (an
// upstream failing, a deny verdict on a route that serves Chat too), TRTC gets 200
// {"code":0}; a Chat callback on the same deny route gets its deny envelope.
func TestTRTCFallbacksAnswerCode0(t *testing.T) {
	down := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, "down"))
	big := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0,"pad":"`+strings.Repeat("x", 2000)+`"}`))
	r := startRouter(t, `
tencent: {sdk_app_ids: [1400000001]}
defaults:
  breaker: {consecutive_failures: 1000, open_for: 10s, half_open_requests: 1}
upstreams:
  down: {url: "`+down.URL+`"}
  big: {url: "`+big.URL+`"}
routes:
  - commands: ["TRTC.1.*"]
    upstream: down
  - commands: ["TRTC.2.*"]
    upstream: big
  - commands: ["*"]
    upstream: down
    retries: 0
    fallback: {action: deny, error_code: 1, error_info: "down"}
`)
	tests := []struct {
		name, body   string
		wantFallback string
	}{
		{name: "upstream failing", body: trtcEnterRoom, wantFallback: "upstream_error"},
		{name: "deny route serving Chat too", body: trtcRecording, wantFallback: "upstream_error"},
		{name: "an answer longer than TRTC takes", body: trtcStartVideo},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.postTRTC(t, r.URL, "1400000001", "", tt.body)
			if a.Status != 200 || a.Body != `{"code":0}` || a.Fallback != tt.wantFallback {
				t.Errorf("answer %d %q (fallback %q), want 200 {\"code\":0} (fallback %q)", a.Status, a.Body, a.Fallback, tt.wantFallback)
			}
		})
	}
	if a := r.post(t, "Group.CallbackBeforeSendMsg", `{"CallbackCommand":"Group.CallbackBeforeSendMsg"}`); a.Body != `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"down"}` {
		t.Errorf("Chat answer on the deny route %q, want its deny envelope", a.Body)
	}
	if !strings.Contains(r.logs.String(), `"command":"TRTC.1.103"`) || !strings.Contains(r.logs.String(), `"decision":"allow"`) {
		t.Errorf("the log does not name TRTC.1.103 answered allow:\n%s", r.logs)
	}
}

// TestTRTCPath: server.trtc_path takes TRTC events only; server.path still takes them too.
func TestTRTCPath(t *testing.T) {
	rooms := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0}`))
	r := startRouter(t, `
server: {path: /tencent, trtc_path: /trtc}
tencent: {sdk_app_ids: [1400000001], trtc_key: `+trtcProdKey+`}
upstreams:
  rooms: {url: "`+rooms.URL+`"}
routes:
  - commands: ["TRTC.*"]
    upstream: rooms
  - commands: ["*"]
`)
	base := strings.TrimSuffix(r.URL, "/tencent")
	sign := tencent.SignTRTC(trtcProdKey, []byte(trtcEnterRoom))
	tests := []struct {
		name, path, query, body, sign string
		wantStatus                    int
		wantCode                      string
	}{
		{name: "on trtc_path", path: "/trtc", body: trtcEnterRoom, sign: sign, wantStatus: 200},
		{name: "on path", path: "/tencent", body: trtcEnterRoom, sign: sign, wantStatus: 200},
		{name: "a Chat body on trtc_path", path: "/trtc", body: giftBody, sign: tencent.SignTRTC(trtcProdKey, []byte(giftBody)), wantStatus: 400, wantCode: "not_trtc_event"},
		{name: "a query command on trtc_path", path: "/trtc", query: "?CallbackCommand=" + giftCommand, body: trtcEnterRoom, sign: sign, wantStatus: 400, wantCode: "ambiguous_command"},
		{name: "the query names another app", path: "/trtc", query: "?SdkAppid=1400000002", body: trtcEnterRoom, sign: sign, wantStatus: 400, wantCode: "ambiguous_query"},
		{name: "another path", path: "/other", body: trtcEnterRoom, sign: sign, wantStatus: 404, wantCode: "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := r.postTRTC(t, base+tt.path+tt.query, "1400000001", tt.sign, tt.body)
			if a.Status != tt.wantStatus || (tt.wantCode != "" && !strings.Contains(a.Body, `"`+tt.wantCode+`"`)) {
				t.Errorf("answer %d %s, want %d %s", a.Status, a.Body, tt.wantStatus, tt.wantCode)
			}
		})
	}
}

// TestTRTCWindow: a route serving only TRTC events may take longer than tencent.window,
// within tencent.trtc_window: TRTC waits 5 s.
func TestTRTCWindow(t *testing.T) {
	slow := upstreamtest.Start(t, upstreamtest.Slow(2500*time.Millisecond, upstreamtest.Answer(http.StatusOK, `{"code":0,"slow":true}`)))
	r := startRouter(t, `
tencent: {sdk_app_ids: [1400000001]}
upstreams:
  rooms: {url: "`+slow.URL+`"}
routes:
  - commands: ["TRTC.*"]
    upstream: rooms
    deadline: 4s
  - commands: ["*"]
`)
	a := r.postTRTC(t, r.URL, "1400000001", "", trtcEnterRoom)
	if a.Status != 200 || a.Body != `{"code":0,"slow":true}` {
		t.Errorf("answer %d %q (fallback %q), want the slow upstream's answer after 2.5s", a.Status, a.Body, a.Fallback)
	}
}

// TestTRTCEventIDsDifferByApp: a TRTC event names its app in its SdkAppId header, not in a
// query, so the same body sent by two apps is two events. Both are delivered, under different
// X-Callback-Event-Id: the store keeps one pending record per event id, and an upstream
// drops duplicates by it.
func TestTRTCEventIDsDifferByApp(t *testing.T) {
	release := make(chan struct{})
	recordings := upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
		<-release // both events are pending when the second arrives
		upstreamtest.Answer(http.StatusOK, `{"code":0}`)(w, r, n)
	})
	t.Cleanup(func() {
		select {
		case <-release:
		default:
			close(release)
		}
	})
	rooms := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, `{"code":0}`))
	gifts := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, trtcConfig("fasthttp", rooms.URL, recordings.URL, gifts.URL, ""))
	for app, key := range map[string]string{"1400000001": trtcProdKey, "1400000002": trtcStagingKey} {
		a := r.postTRTC(t, r.URL, app, tencent.SignTRTC(key, []byte(trtcRecording)), trtcRecording)
		if a.Status != 200 || a.Body != `{"code":0}` || a.Fallback != "" {
			t.Fatalf("app %s: answer %d %q (fallback %q), want 200 {\"code\":0}", app, a.Status, a.Body, a.Fallback)
		}
	}
	close(release)
	testutil.Eventually(t, "both recordings' deliveries", func() bool { return recordings.Hits() >= 2 })
	ids := map[string]string{} // SdkAppId -> event id
	for _, req := range recordings.Requests() {
		ids[req.Header.Get("SdkAppId")] = req.Header.Get("X-Callback-Event-Id")
	}
	if len(ids) != 2 || ids["1400000001"] == "" || ids["1400000001"] == ids["1400000002"] {
		t.Errorf("deliveries by app (event ids): %v; want each app's event delivered under its own id", ids)
	}
}
