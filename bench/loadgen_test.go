//go:build linux

package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"io"
	"net/http"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

func TestPercentile(t *testing.T) {
	ms := func(n int) time.Duration { return time.Duration(n) * time.Millisecond }
	var thousand []time.Duration
	for i := 1; i <= 1000; i++ {
		thousand = append(thousand, ms(i))
	}
	cases := []struct {
		samples []time.Duration
		p       float64
		want    time.Duration
	}{
		{nil, 50, 0},
		{[]time.Duration{ms(7)}, 99.9, ms(7)},
		{[]time.Duration{ms(1), ms(2)}, 50, ms(1)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 50, ms(2)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 75, ms(3)},
		{[]time.Duration{ms(1), ms(2), ms(3), ms(4)}, 100, ms(4)},
		{thousand, 50, ms(500)},
		{thousand, 99, ms(990)},
		{thousand, 99.9, ms(999)}, // not 1000: 0.999*1000 is 999.0000000000001 in floating point
		{thousand, 0.01, ms(1)},
	}
	for _, c := range cases {
		if got := percentile(c.samples, c.p); got != c.want {
			t.Errorf("percentile(%d samples, %v) = %v, want %v", len(c.samples), c.p, got, c.want)
		}
	}
}

func TestMergeSortsAndSums(t *testing.T) {
	ws := []*worker{
		{lat: []time.Duration{5, 1, 3}, socket: 1, first: "a"},
		{lat: []time.Duration{4, 2}, status: 2, wrong: 1, queued: 3},
	}
	r := merge(ws, time.Second)
	if r.Requests != 5 || r.P50 != 3 || r.Max != 5 || r.errors() != 4 || r.Queued != 3 || r.FirstProblem != "a" {
		t.Errorf("merge = %+v", r)
	}
	if r.rate() != 5 {
		t.Errorf("rate = %v, want 5", r.rate())
	}
}

func TestExpectationCheck(t *testing.T) {
	up := answer{status: 200, body: []byte(allowEnvelope)}
	fb := answer{status: 200, fallback: "breaker_open", body: []byte(denyEnvelope)}
	cases := []struct {
		exp  expectation
		a    answer
		good bool
	}{
		{expectUpstream, up, true},
		{expectUpstream, fb, false},
		{expectUpstream, answer{status: 502, body: []byte("bad gateway")}, false},
		{expectUpstream, answer{status: 200, body: []byte(denyEnvelope)}, false},
		{expectFallback, fb, true},
		{expectFallback, up, false},
		{expectation{fallback: "breaker_open", body: denyEnvelope}, fb, true},
		{expectation{fallback: "breaker_open", body: denyEnvelope}, answer{status: 200, fallback: "timeout", body: []byte(denyEnvelope)}, false},
	}
	for i, c := range cases {
		if got := c.exp.check(c.a); (got == "") != c.good {
			t.Errorf("case %d: check = %q, want good=%v", i, got, c.good)
		}
	}
}

func TestBuildRequestIsTencentsCallback(t *testing.T) {
	raw := buildRequest("127.0.0.1:8080", "/")
	req, err := http.ReadRequest(bufio.NewReader(bytes.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(req.Body)
	q := req.URL.Query()
	if req.Method != "POST" || req.URL.Path != "/" || req.Host != "127.0.0.1:8080" ||
		q.Get("SdkAppid") != "1400000001" || q.Get("CallbackCommand") != "Live.CallbackBeforeSendGift" ||
		q.Get("contenttype") != "json" || string(body) != giftBody {
		t.Errorf("request = %s %s host %s, body %s", req.Method, req.URL, req.Host, body)
	}
	if callbackURL("127.0.0.1:1", "/gifts") != "http://127.0.0.1:1/gifts?"+callbackQuery {
		t.Error("callbackURL")
	}
}

func TestParseRxTimestamp(t *testing.T) {
	want := time.Unix(1717236000, 123456789)
	data := make([]byte, 16)
	binary.NativeEndian.PutUint64(data, uint64(want.Unix()))
	binary.NativeEndian.PutUint64(data[8:], uint64(want.Nanosecond()))
	oob := make([]byte, syscall.CmsgSpace(len(data)))
	h := (*syscall.Cmsghdr)(unsafe.Pointer(&oob[0]))
	h.Level, h.Type = syscall.SOL_SOCKET, syscall.SCM_TIMESTAMPNS
	h.SetLen(syscall.CmsgLen(len(data)))
	copy(oob[syscall.CmsgLen(0):], data)
	if got := parseRxTimestamp(oob); !got.Equal(want) {
		t.Errorf("parseRxTimestamp = %v, want %v", got, want)
	}
	if got := parseRxTimestamp(nil); !got.IsZero() {
		t.Errorf("parseRxTimestamp(nil) = %v, want zero", got)
	}
	h.Type = syscall.SCM_RIGHTS
	if got := parseRxTimestamp(oob); !got.IsZero() {
		t.Errorf("parseRxTimestamp(SCM_RIGHTS) = %v, want zero", got)
	}
}
