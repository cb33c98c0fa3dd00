package e2e

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/tencent"
)

// The secrets the log scan plants. Each is unique, so finding it anywhere is a leak.
const (
	scanToken      = "LOGSCAN-callback-token-5f3a"
	scanAdminToken = "LOGSCAN-admin-token-8c21"
	scanWrongAdmin = "LOGSCAN-wrong-admin-token-6b90"
	scanAPIKey     = "LOGSCAN-upstream-api-key-77d0"
	scanUser       = "LOGSCAN-userinfo-user-2d4c"
	scanPassword   = "LOGSCAN-userinfo-PASS-19be"
	scanBody       = "LOGSCAN-BODY-MARKER-4e6c"
	scanQuery      = "LOGSCAN-QUERY-MARKER-a0f1"
	scanHeader     = "LOGSCAN-HEADER-MARKER-3c7e"
	scanTRTCKey    = "LOGSCANtrtcKey9e41" // TRTC's console keys are letters and digits
)

// scanSigns collects every Sign the scan sends: each is valid for its RequestTime.
type scanSigns struct {
	mu    sync.Mutex
	signs []string
}

// query is a query as Tencent sends it for command, signed now, with a marker parameter.
func (s *scanSigns) query(command string) string {
	now := strconv.FormatInt(time.Now().Unix(), 10)
	sign := tencent.Sign(scanToken, now)
	s.mu.Lock()
	s.signs = append(s.signs, sign)
	s.mu.Unlock()
	return "SdkAppid=1400000001&CallbackCommand=" + command + "&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI&Marker=" + scanQuery + "&Sign=" + sign + "&RequestTime=" + now
}

// scanBodyFor is a callback body for command carrying the body marker.
func scanBodyFor(command string) string {
	return `{"CallbackCommand":"` + command + `","RoomId":"r","Note":"` + scanBody + `"}`
}

// echo answers status with the request it got — query and body — as a careless upstream
// does in its error pages.
func echo(status int) upstreamtest.Behavior {
	return func(w http.ResponseWriter, r *http.Request, _ int64) {
		body, _ := io.ReadAll(r.Body)
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html>you sent %s with %s</html>", r.URL.String(), body)
	}
}

// scanRoutes are the commands of the scan that each go to an upstream of their own, named
// in lower case, which fails in its own way.
var scanRoutes = []string{"OK", "Echo", "Err500", "Dead", "Reset", "Hang", "Drip", "Truncated", "Big", "BigChunked", "RawEcho", "DNS"}

// scanConfig is the router's config for the scan: a route per way an upstream can fail
// (up holds each upstream's base URL), each upstream URL carrying the API key in its query.
func scanConfig(engine, listen, admin, dir string, up map[string]string) *testutil.Config {
	key := "?api_key=" + scanAPIKey
	c := configAt(listen, admin).Set("server.engine", engine).Set("log.level", "debug").With(`
server: {read_header_timeout: 500ms, read_timeout: 1s, max_body_bytes: 4096, max_header_bytes: 4096, max_conns: 60,
  shutdown_timeout: 2s, drain_grace: 100ms}
defaults: {deadline: 300ms, breaker: `+breakerStaysClosed+`}
delivery: {backoff: {initial: 50ms, max: 200ms}}`).Set("delivery.dir", dir)
	for _, name := range scanRoutes {
		lower := strings.ToLower(name)
		c.Upstream(lower, up[lower]+"/"+lower+key).Route(`{commands: [Test.` + name + `], upstream: ` + lower + `}`)
	}
	return c.Upstream("fragile", up["dead"]+"/fragile"+key).
		SetYAML("upstreams.fragile.breaker", "{consecutive_failures: 1, open_for: 1m, half_open_requests: 1}").
		Route(`{commands: ["TRTC.*"], upstream: err500}`).
		Route(`{commands: [Test.Breaker], upstream: fragile, retries: 0}`).
		Route(`{commands: [Test.Overload], upstream: hang, max_in_flight: 1}`).
		Route(`{commands: [Test.Async], upstream: err500, async: true}`).
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: err500, journal: true, fallback: ` + giftDeny + `}`).
		Route(catchAll)
}

// TestNoSecretInLogsStatusOrMetrics drives the real binary through every refusal and
// failure path of the test suite's fault tables — the ingress checks, requests the
// connection layer cannot read, the connection limit, each way an upstream fails, the
// breaker, overload, async and journaled deliveries that fail, an admin token that is wrong,
// a config reload refused for the credentials in a URL — with a known callback token, admin
// token, Signs, upstream API key, URL password, query, header and body markers; then checks
// that none of them appears in any line the process wrote, in /status.json or in /metrics.
// It also checks that each path left its trace, so that a path that stopped being reached
// cannot make the scan pass unseen.
func TestNoSecretInLogsStatusOrMetrics(t *testing.T) {
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) { runLogScan(t, engine) })
	}
}

func runLogScan(t *testing.T, engine string) {
	signs := &scanSigns{}
	big := `{"ErrorCode":0,"Pad":"` + strings.Repeat("x", 2<<20) + `"}`
	up := map[string]string{
		"ok": upstreamtest.Start(t, func(w http.ResponseWriter, r *http.Request, n int64) {
			w.Header().Set("Connection", "close")
			upstreamtest.OK()(w, r, n)
		}).URL,
		"echo":   upstreamtest.Start(t, echo(http.StatusOK)).URL,
		"err500": upstreamtest.Start(t, echo(http.StatusInternalServerError)).URL,
		"dead":   "http://" + upstreamtest.DeadAddr(t),
		"reset":  upstreamtest.Start(t, upstreamtest.Reset()).URL,
		"dns":    "http://callback-router-logscan.invalid:9001",
		"hang":   "http://" + upstreamtest.Raw(t, func(c net.Conn) { io.Copy(io.Discard, c) }),
		"drip": "http://" + upstreamtest.Raw(t, func(c net.Conn) {
			if upstreamtest.ReadRequest(c) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 200\r\n\r\n{")
				time.Sleep(2 * time.Second)
			}
		}),
		"truncated": "http://" + upstreamtest.Raw(t, func(c net.Conn) {
			if upstreamtest.ReadRequest(c) {
				io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{\"ErrorCode\":0")
			}
		}),
		"big": upstreamtest.Start(t, func(w http.ResponseWriter, _ *http.Request, _ int64) {
			w.Header().Set("Content-Length", strconv.Itoa(len(big)))
			io.WriteString(w, big)
		}).URL,
		"bigchunked": upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, big)).URL,
		// Not HTTP at all: the bytes it got, sent back, as a TCP echo on the wrong port does.
		"rawecho": "http://" + upstreamtest.Raw(t, func(c net.Conn) {
			c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
			buf := make([]byte, 64<<10)
			if n, _ := c.Read(buf); n > 0 {
				c.Write(buf[:n])
			}
		}),
	}
	dir := filepath.Join(t.TempDir(), "data")
	r := start(t, scanConfig(engine, testutil.FreeAddr(t), testutil.FreeAddr(t), dir, up),
		"CALLBACK_ROUTER_TENCENT_AUTH_TOKEN="+scanToken, "CALLBACK_ROUTER_SERVER_ADMIN_TOKEN="+scanAdminToken,
		"CALLBACK_ROUTER_TENCENT_TRTC_KEY="+scanTRTCKey)
	r.WaitAccepting(t, r.admin)
	addr := r.addr

	client := &http.Client{Timeout: 5 * time.Second}
	post := func(method, path, query, body string, header http.Header) {
		req, err := http.NewRequest(method, "http://"+addr+path+"?"+query, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range header {
			req.Header[k] = v
		}
		req.Header.Set("X-Marker", scanHeader)
		resp, err := client.Do(req)
		if err != nil {
			return // a refusal may close the connection under the answer
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
	}
	var wg sync.WaitGroup
	parallel := func(f func()) { wg.Add(1); go func() { defer wg.Done(); f() }() }

	// Every way an upstream fails, and a success, each signed.
	for _, c := range []string{"Test.OK", "Test.Echo", "Test.Err500", "Test.Dead", "Test.Reset", "Test.Hang",
		"Test.Drip", "Test.Truncated", "Test.Big", "Test.BigChunked", "Test.RawEcho", "Test.DNS", "Test.Async", "Test.Unrouted"} {
		parallel(func() { post(http.MethodPost, "/", signs.query(c), scanBodyFor(c), nil) })
	}
	parallel(func() { // breaker: the first failure opens it, the second call finds it open
		post(http.MethodPost, "/", signs.query("Test.Breaker"), scanBodyFor("Test.Breaker"), nil)
		post(http.MethodPost, "/", signs.query("Test.Breaker"), scanBodyFor("Test.Breaker"), nil)
	})
	parallel(func() { // overload: max_in_flight 1, the first hangs
		var inner sync.WaitGroup
		inner.Add(1)
		go func() {
			defer inner.Done()
			post(http.MethodPost, "/", signs.query("Test.Overload"), scanBodyFor("Test.Overload"), nil)
		}()
		time.Sleep(100 * time.Millisecond)
		post(http.MethodPost, "/", signs.query("Test.Overload"), scanBodyFor("Test.Overload"), nil)
		inner.Wait()
	})
	parallel(func() { // journaled gift, twice the same body
		for range 2 {
			post(http.MethodPost, "/", signs.query("Live.CallbackBeforeSendGift"), scanBodyFor("Live.CallbackBeforeSendGift"), nil)
		}
	})
	parallel(func() { // an incoming parameter the upstream URL sets itself is dropped
		post(http.MethodPost, "/", signs.query("Test.OK")+"&api_key="+scanQuery, scanBodyFor("Test.OK"), nil)
	})

	// Every ingress check, each request carrying the markers.
	now := strconv.FormatInt(time.Now().Unix(), 10)
	stale := strconv.FormatInt(time.Now().Add(-time.Hour).Unix(), 10)
	wrongSign := tencent.Sign("LOGSCAN-not-the-token", now)
	staleSign := tencent.Sign(scanToken, stale)
	signs.mu.Lock()
	signs.signs = append(signs.signs, wrongSign, staleSign)
	signs.mu.Unlock()
	gift := "Live.CallbackBeforeSendGift"
	base := "SdkAppid=1400000001&CallbackCommand=" + gift + "&Marker=" + scanQuery
	oversized := `{"CallbackCommand":"` + gift + `","Note":"` + scanBody + `","Pad":"` + strings.Repeat("x", 5000) + `"}`
	for _, r := range []struct{ method, path, query, body string }{
		{http.MethodPost, "/", base + "&Sign=" + wrongSign + "&RequestTime=" + now, scanBodyFor(gift)},                                           // bad_signature
		{http.MethodPost, "/", base + "&Sign=" + staleSign + "&RequestTime=" + stale, scanBodyFor(gift)},                                         // bad_signature, skewed
		{http.MethodPost, "/", base, scanBodyFor(gift)},                                                                                          // bad_signature, missing
		{http.MethodPost, "/", strings.Replace(signs.query(gift), "1400000001", "1400000009", 1), scanBodyFor(gift)},                             // app_not_served
		{http.MethodGet, "/", signs.query(gift), ""},                                                                                             // method_not_allowed
		{http.MethodPut, "/", signs.query(gift), scanBodyFor(gift)},                                                                              // method_not_allowed
		{http.MethodPost, "/", signs.query(gift), oversized},                                                                                     // body_too_large
		{http.MethodPost, "/", signs.query(gift) + "&sdkappid=1400000009", scanBodyFor(gift)},                                                    // ambiguous_query
		{http.MethodPost, "/", signs.query(gift), scanBodyFor("Group.CallbackBeforeSendMsg")},                                                    // ambiguous_command
		{http.MethodPost, "/", signs.query(gift), "{\"CallbackCommand\":\"" + gift + "\",\"Note\":\"" + scanBody + "\xff\"}"},                    // body_not_utf8
		{http.MethodPost, "/", signs.query(gift), `{"Note":"` + scanBody + `","X":` + strings.Repeat("[", 100) + strings.Repeat("]", 100) + `}`}, // body_too_deep
		{http.MethodPost, "/", strings.Replace(signs.query(gift), "CallbackCommand="+gift+"&", "", 1), `{"Note":"` + scanBody + `"}`},            // no_command
		{http.MethodPost, "/other/" + scanQuery, signs.query(gift), scanBodyFor(gift)},                                                           // not_found
	} {
		parallel(func() { post(r.method, r.path, r.query, r.body, nil) })
	}
	// TRTC events: their Sign is a header, an HMAC of the body with the app's TRTC key.
	trtcEvent := func(eventType string) string {
		return `{"EventGroupId":1,"EventType":` + eventType + `,"CallbackTs":1615554923704,"EventInfo":{"RoomId":12345,"UserId":"` + scanBody + `"}}`
	}
	for _, ev := range []struct{ body, key string }{
		{trtcEvent("103"), scanTRTCKey},        // upstream_error: the upstream answers 500
		{trtcEvent("104"), "LOGSCANnotTheKey"}, // bad_signature
		{strings.Replace(trtcEvent("105"), `"EventGroupId":1,`, `"EventGroupId":1,"eventtype":106,`, 1), scanTRTCKey}, // ambiguous_command
	} {
		sign := tencent.SignTRTC(ev.key, []byte(ev.body))
		signs.mu.Lock()
		signs.signs = append(signs.signs, sign)
		signs.mu.Unlock()
		parallel(func() {
			post(http.MethodPost, "/", "Marker="+scanQuery, ev.body, http.Header{"Sdkappid": {"1400000001"}, "Sign": {sign}})
		})
	}
	parallel(func() { // body_too_large, chunked
		req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/?"+signs.query(gift), io.MultiReader(strings.NewReader(oversized)))
		if resp, err := client.Do(req); err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})

	// What the connection layer cannot read, over raw sockets.
	target := "/?" + signs.query(gift)
	body := scanBodyFor(gift)
	for _, raw := range []string{
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nX-Bad: a\x00%s\r\nContent-Length: %d\r\n\r\n%s", target, scanHeader, len(body), body),
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nBad\x01Name: %s\r\nContent-Length: %d\r\n\r\n%s", target, scanHeader, len(body), body),
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Big: %s%s\r\n\r\n%s", target, len(body), scanHeader, strings.Repeat("a", 8192), body),
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\nX-Stalled: %s", target, len(body), scanHeader),                // headers stalled
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, len(body)+10, body),                          // body stalled
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 1%s\r\n\r\n%s", target, scanHeader, body),                           // length not a number
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\n%s", target, body),                    // two lengths
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n%s\r\n%s\r\n0\r\n\r\n", target, scanHeader, body), // chunk size not hex
		fmt.Sprintf("POST %s HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nPOST /smuggled?%s HTTP/1.1\r\n\r\n", target, scanQuery),
		fmt.Sprintf("POST %s HTTP/7.%s\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, scanHeader, len(body), body),
		fmt.Sprintf("POST %s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", target, scanQuery, len(body), body),
		fmt.Sprintf("TRACE %s HTTP/1.1\r\nHost: x\r\n\r\n", target),
		fmt.Sprintf("\x16\x03\x01garbage %s\r\n\r\n", target),
	} {
		parallel(func() {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				return
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(5 * time.Second))
			io.WriteString(c, raw)
			io.Copy(io.Discard, c)
		})
	}
	wg.Wait()

	// The connection limit: 60 held, the next refused.
	var held []net.Conn
	for range 61 {
		if c, err := net.Dial("tcp", addr); err == nil {
			held = append(held, c)
		}
	}
	time.Sleep(200 * time.Millisecond)
	for _, c := range held {
		c.Close()
	}

	// The admin listener, asked with a wrong token.
	for _, path := range []string{"/status.json", "/metrics", "/queue/list?state=pending"} {
		r.adminGet(path, scanWrongAdmin)
	}
	adminGetAuth := func(path string) string {
		status, body := r.adminGet(path, scanAdminToken)
		if status != http.StatusOK {
			t.Fatalf("GET %s: %d %s", path, status, body)
		}
		return body
	}

	// A reload refused for the credentials in a URL: validate's problems, the log line and
	// the status page's last error all quote it.
	refused := scanConfig(engine, r.addr, r.admin, dir, up).
		Upstream("leaky", "http://"+scanUser+":"+scanPassword+"@127.0.0.1:9/x?api_key="+scanAPIKey)
	testutil.Rewrite(t, r.config, refused.String())
	if err := r.Signal(syscall.SIGHUP); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the refused reload to be counted", func() bool {
		return strings.Contains(adminGetAuth("/metrics"), "callback_router_config_reload_failures_total 1")
	})
	// Deliveries of the async and journaled callbacks have failed at least once by now.
	r.waitLogged(t, "delivery failed")
	time.Sleep(300 * time.Millisecond) // log lines reach stdout in blocks at most 100 ms old

	status, metrics, out := adminGetAuth("/status.json"), adminGetAuth("/metrics"), r.Output.String()
	secrets := []string{scanToken, scanAdminToken, scanWrongAdmin, scanAPIKey, scanUser, scanPassword, scanBody, scanQuery, scanHeader, scanTRTCKey}
	signs.mu.Lock()
	secrets = append(secrets, signs.signs...)
	signs.mu.Unlock()
	for _, place := range []struct{ name, text string }{{"the process's output", out}, {"/status.json", status}, {"/metrics", metrics}} {
		for _, s := range secrets {
			if i := strings.Index(place.text, s); i >= 0 {
				t.Errorf("%s holds %q: …%s…", place.name, s, place.text[max(0, i-300):min(len(place.text), i+len(s)+100)])
			}
		}
	}

	// Each path was reached: its reject code, fallback reason or message is in the log.
	traces := []string{
		`"reject_code":"bad_signature"`, `"reject_code":"app_not_served"`, `"reject_code":"method_not_allowed"`,
		`"reject_code":"body_too_large"`, `"reject_code":"ambiguous_query"`, `"reject_code":"ambiguous_command"`,
		`"reject_code":"body_not_utf8"`, `"reject_code":"body_too_deep"`, `"reject_code":"no_command"`,
		`"reject_code":"not_found"`, `"reject_code":"read_timeout"`, `"command":"TRTC.1.103"`,
		`"fallback_reason":"timeout"`, `"fallback_reason":"upstream_error"`, `"fallback_reason":"breaker_open"`,
		`"fallback_reason":"overloaded"`, `"fallback_reason":"no_route"`, `"decision":"upstream"`, `"decision":"queued"`,
		"delivery failed", "config reload refused", "leaky", "invalid response status code",
	}
	if engine == "fasthttp" { // net/http answers these itself, without a log line
		traces = append(traces, `"reject_code":"malformed_request"`, `"reject_code":"header_too_large"`)
	}
	for _, tr := range traces {
		if !strings.Contains(out, tr) {
			t.Errorf("no trace of %s in the log: that path was not reached", tr)
		}
	}
	if !strings.Contains(metrics, `code="too_many_connections"`) {
		t.Errorf("/metrics counts no connection refused by server.max_conns: that path was not reached")
	}
	if !strings.Contains(status, "leaky") {
		t.Errorf("/status.json does not show the refused reload's problem")
	}
}
