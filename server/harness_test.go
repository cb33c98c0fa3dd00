package server_test

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/internal/deliverytest"
	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/tencent"
)

// giftBody is Tencent's documented gift sample with an ID above 2^53 added, which a decode
// to float64 would corrupt.
const giftBody = `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000},"Member_Account":144115233775727695}`

// router is a callback-router serving on loopback for one test.
type testRouter struct {
	URL  string // base URL, ending in the configured path
	srv  *server.Server
	logs *testutil.Buffer
}

// startRouter serves the YAML config (listen is forced to a free loopback port), delivering
// through a real store of its own, until the test ends, and returns once it accepts
// connections.
func startRouter(t testing.TB, yaml string, opts ...server.Option) *testRouter {
	t.Helper()
	cfg := routertest.Parse(t, yaml)
	cfg.Server.Listen = "127.0.0.1:0"
	logs := &testutil.Buffer{}
	log := zerolog.New(logs)
	table := routertest.Compile(t, cfg, router.Options{})
	srv := server.New(table, deliverytest.Open(t, cfg.Delivery, log), log, opts...)
	if err := srv.Listen(); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		// Give back the keep-alive connections, as a client does when the router answers
		// Connection: close, so the drain does not wait out server.drain_grace.
		client.CloseIdleConnections()
		cancel()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("router stopped with %v", err)
			}
		case <-time.After(20 * time.Second):
			t.Errorf("router did not stop")
		}
	})
	return &testRouter{URL: "http://" + srv.Addr().String() + cfg.Server.Path, srv: srv, logs: logs}
}

// dial opens a raw connection to addr (a router's host:port) on which every read and write
// gives up after limit; it is closed when the test ends.
func dial(t testing.TB, addr string, limit time.Duration) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(limit))
	return c
}

// readStatus reads one answer from c, body and all, and returns its status: 0, with the
// error, when no answer came.
func readStatus(c net.Conn) (int, error) {
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return 0, err
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// answer is what Tencent got back.
type answer struct {
	Status   int
	Body     string
	Fallback string
	Header   http.Header
	Elapsed  time.Duration
}

var client = &http.Client{
	Transport: &http.Transport{MaxIdleConnsPerHost: 2000, MaxConnsPerHost: 0, DisableCompression: true},
	Timeout:   30 * time.Second,
}

// post sends a callback as Tencent does: the command and app in the query, the body raw.
func (r *testRouter) post(t testing.TB, command, body string) answer {
	t.Helper()
	q := "SdkAppid=1400000001&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android"
	if command != "" {
		q = "CallbackCommand=" + command + "&" + q
	}
	return r.do(t, http.MethodPost, r.URL+"?"+q, body)
}

func (r *testRouter) do(t testing.TB, method, url, body string) answer {
	t.Helper()
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return r.send(t, req)
}

// send sends req and returns the answer; a request that gets none is an error of the test
// and a zero answer.
func (r *testRouter) send(t testing.TB, req *http.Request) answer {
	t.Helper()
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		t.Errorf("%s %s: %v", req.Method, req.URL, err)
		return answer{}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Errorf("reading answer: %v", err)
	}
	return answer{Status: resp.StatusCode, Body: string(b), Fallback: resp.Header.Get("X-Callback-Fallback"),
		Header: resp.Header, Elapsed: time.Since(start)}
}

// signature is the RequestTime and Sign parameters Tencent adds to a callback's query,
// made with token at time at.
func signature(token string, at time.Time) string {
	rt := strconv.FormatInt(at.Unix(), 10)
	return "RequestTime=" + rt + "&Sign=" + tencent.Sign(token, rt)
}

// signedQuery is the query Tencent sends a callback of app with, signed with token now.
func signedQuery(app, command, token string) string {
	return "SdkAppid=" + app + "&CallbackCommand=" + command + "&" + signature(token, time.Now())
}

// configFor returns a config with one sync route for command to url, plus "*" answered from
// config; extra is appended to the route's keys (indented YAML).
func configFor(command, url, extra string) string {
	return configWith("tencent: {sdk_app_ids: [1400000001]}", command, url, extra)
}

// configWith is configFor with top-level keys (server, tencent) of the caller's.
func configWith(top, command, url, extra string) string {
	return top + fmt.Sprintf(`
defaults:
  breaker: {consecutive_failures: 1000, open_for: 10s, half_open_requests: 1}
upstreams:
  up: {url: %q}
routes:
  - commands: [%q]
    upstream: up
%s
  - commands: ["*"]
    fallback: {action: allow}
`, url, command, extra)
}

const (
	allowEnvelope = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
	giftCommand   = "Live.CallbackBeforeSendGift"
	giftDeny      = `    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}`
	giftDenyBody  = `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`
)

func containsLine(logs, s string) bool { return strings.Contains(logs, s) }
