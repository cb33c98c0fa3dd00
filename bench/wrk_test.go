//go:build linux

package main

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

const wrkOutput = `Running 3s test @ http://127.0.0.1:40000/?SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     1.51ms    2.10ms  36.23ms   93.12%
    Req/Sec    22.50k     2.01k   26.11k    70.00%
  Latency Distribution
     50%    1.24ms
     75%    1.50ms
     90%    2.01ms
     99%   24.20ms
  134331 requests in 3.00s, 26.13MB read
  Non-2xx or 3xx responses: 3
Requests/sec:  44776.12
Transfer/sec:      8.71MB
BENCH requests 134331
BENCH duration_us 3000051
BENCH bytes 27403524
BENCH errors_connect 0
BENCH errors_read 2
BENCH errors_write 0
BENCH errors_status 3
BENCH errors_timeout 1
BENCH latency_p50_us 1240
BENCH latency_p99_us 24201
BENCH latency_p999_us 36200
BENCH latency_max_us 36230
`

func TestParseWrk(t *testing.T) {
	r, err := parseWrk(wrkOutput)
	if err != nil {
		t.Fatal(err)
	}
	want := loadResult{
		Requests: 134331, Elapsed: 3000051 * time.Microsecond,
		P50: 1240 * time.Microsecond, P99: 24201 * time.Microsecond, P999: 36200 * time.Microsecond, Max: 36230 * time.Microsecond,
		SocketErrors: 3, StatusErrors: 3,
		FirstProblem: "wrk socket errors: connect 0, read 2, write 0, timeout 1",
	}
	if r != want {
		t.Errorf("parseWrk =\n%+v, want\n%+v", r, want)
	}
	if got := r.rate(); got < 44776 || got > 44777 {
		t.Errorf("rate = %.2f, want 44776.x", got)
	}
	if r.errors() != 6 {
		t.Errorf("errors = %d, want 6", r.errors())
	}
}

func TestParseWrkWithoutDone(t *testing.T) {
	// wrk without the script's done(): its human output alone is not enough.
	human, _, _ := strings.Cut(wrkOutput, "BENCH")
	if _, err := parseWrk(human); err == nil {
		t.Error("parseWrk without BENCH lines: nil error")
	}
	if _, err := parseWrk("BENCH requests many\n"); err == nil {
		t.Error("parseWrk with a non-number: nil error")
	}
}

func TestPostLuaBodyIsGiftBody(t *testing.T) {
	_, rest, ok := bytes.Cut(postLua, []byte("wrk.body = [["))
	body, _, ok2 := bytes.Cut(rest, []byte("]]"))
	if !ok || !ok2 {
		t.Fatal("no wrk.body = [[...]] in wrk/post.lua")
	}
	if string(body) != giftBody {
		t.Errorf("wrk/post.lua posts\n%s\nbut the Go generator posts\n%s", body, giftBody)
	}
	if !json.Valid(body) {
		t.Error("the gift body is not JSON")
	}
}

func TestWrkArgs(t *testing.T) {
	w := &wrkRunner{bin: "wrk", script: "/tmp/post.lua"}
	got := strings.Join(w.args("http://x/", 64, 2500*time.Millisecond), " ")
	if want := "wrk -t 2 -c 64 -d 3s --latency --timeout 5s -s /tmp/post.lua http://x/"; got != want {
		t.Errorf("args = %q, want %q", got, want)
	}
}
