package server_test

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestRetries: what is retried (connection errors, 502/503/504 by default), how often, and
// what Tencent gets when retries are spent.
func TestRetries(t *testing.T) {
	tests := []struct {
		name         string
		behave       upstreamtest.Behavior
		routeKeys    string
		wantHits     int64
		wantBody     string
		wantFallback string
	}{
		{"503 once, one retry: answered", upstreamtest.FailFirst(1, 503, upstreamtest.OK()), "    retries: 1\n", 2, allowEnvelope, ""},
		{"503 twice, one retry: fallback", upstreamtest.FailFirst(2, 503, upstreamtest.OK()), "    retries: 1\n", 2, giftDenyBody, "upstream_error"},
		{"503 three times, three retries: answered", upstreamtest.FailFirst(3, 503, upstreamtest.OK()), "    retries: 3\n", 4, allowEnvelope, ""},
		{"502 then ok", upstreamtest.FailFirst(1, 502, upstreamtest.OK()), "", 2, allowEnvelope, ""},
		{"504 then ok", upstreamtest.FailFirst(1, 504, upstreamtest.OK()), "", 2, allowEnvelope, ""},
		{"500 is not retried by default", upstreamtest.FailFirst(1, 500, upstreamtest.OK()), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"500 retried when retry_on lists it", upstreamtest.FailFirst(1, 500, upstreamtest.OK()), "    retry_on: [500]\n", 2, allowEnvelope, ""},
		{"404 is not retried", upstreamtest.FailFirst(1, 404, upstreamtest.OK()), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"retries: 0 means one attempt", upstreamtest.FailFirst(1, 503, upstreamtest.OK()), "    retries: 0\n", 1, giftDenyBody, "upstream_error"},
		{"HTML 200 is a failure, not retried", upstreamtest.Answer(200, "<html><body>Bad gateway</body></html>"), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"JSON without ErrorCode is a failure", upstreamtest.Answer(200, `{"ActionStatus":"OK"}`), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"ErrorCode as a string is a failure", upstreamtest.Answer(200, `{"ErrorCode":"0"}`), "", 1, giftDenyBody, "upstream_error"},
		{"ErrorCode twice (allow, then deny) is a failure, not retried", upstreamtest.Answer(200, `{"ErrorCode":0,"ErrorCode":1}`), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"ErrorCode twice (number, then string) is a failure", upstreamtest.Answer(200, `{"ErrorCode":0,"ErrorCode":"x"}`), "", 1, giftDenyBody, "upstream_error"},
		{"invalid UTF-8 in a string is a failure, not retried", upstreamtest.Answer(200, "{\"ErrorCode\":0,\"ErrorInfo\":\"\xff\"}"), "    retries: 3\n", 1, giftDenyBody, "upstream_error"},
		{"ErrorCode past 32 bits is a failure", upstreamtest.Answer(200, `{"ErrorCode":9223372036854775807}`), "", 1, giftDenyBody, "upstream_error"},
		{"reset connection is retried", resetFirst(), "    retries: 1\n", 2, allowEnvelope, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			up := upstreamtest.Start(t, tt.behave)
			r := startRouter(t, configFor(giftCommand, up.URL, tt.routeKeys+giftDeny))
			a := r.post(t, giftCommand, giftBody)
			if a.Body != tt.wantBody || a.Fallback != tt.wantFallback {
				t.Errorf("got %s (fallback %q), want %s (fallback %q)", a.Body, a.Fallback, tt.wantBody, tt.wantFallback)
			}
			if got := up.Hits(); got != tt.wantHits {
				t.Errorf("upstream hit %d times, want %d", got, tt.wantHits)
			}
		})
	}
}

func resetFirst() upstreamtest.Behavior {
	reset, ok := upstreamtest.Reset(), upstreamtest.OK()
	return func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			reset(w, r, n)
			return
		}
		ok(w, r, n)
	}
}

// TestRetryAttemptHeaders: every attempt carries the same X-Request-Id and its own number in
// X-Callback-Attempt, and X-Callback-Deadline-Ms shrinks.
func TestRetryAttemptHeaders(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.FailFirst(2, 503, upstreamtest.OK()))
	r := startRouter(t, configFor(giftCommand, up.URL, "    retries: 2\n"))
	a := r.post(t, giftCommand, giftBody)
	if a.Body != allowEnvelope {
		t.Fatalf("got %s, want the upstream's answer on the third attempt", a.Body)
	}
	reqs := up.Requests()
	if len(reqs) != 3 {
		t.Fatalf("upstream got %d attempts, want 3", len(reqs))
	}
	id := a.Header.Get("X-Request-Id")
	prevLeft := 1 << 30
	for i, req := range reqs {
		if got := req.Header.Get("X-Request-Id"); got != id {
			t.Errorf("attempt %d: X-Request-Id %q, want %q on every attempt", i+1, got, id)
		}
		if got, want := req.Header.Get("X-Callback-Attempt"), strconv.Itoa(i+1); got != want {
			t.Errorf("attempt %d: X-Callback-Attempt %q, want %q", i+1, got, want)
		}
		left, err := strconv.Atoi(req.Header.Get("X-Callback-Deadline-Ms"))
		if err != nil || left <= 0 || left > 1800 || left > prevLeft {
			t.Errorf("attempt %d: X-Callback-Deadline-Ms %q, want a positive, shrinking budget within 1800", i+1, req.Header.Get("X-Callback-Deadline-Ms"))
		}
		prevLeft = left
		if string(req.Body) != giftBody {
			t.Errorf("attempt %d: body changed", i+1)
		}
	}
}

// TestRetryNotStartedPastDeadline: when the time left cannot hold another attempt, none is
// started, and Tencent gets the fallback by the deadline.
func TestRetryNotStartedPastDeadline(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Slow(260*time.Millisecond, upstreamtest.Answer(503, "busy")))
	r := startRouter(t, configFor(giftCommand, up.URL, "    deadline: 300ms\n    retries: 5\n"+giftDeny))
	a := r.post(t, giftCommand, giftBody)
	if a.Body != giftDenyBody || a.Fallback != "upstream_error" {
		t.Errorf("got %s (fallback %q), want the deny fallback (upstream_error)", a.Body, a.Fallback)
	}
	if got := up.Hits(); got != 1 {
		t.Errorf("upstream hit %d times, want 1: 40ms left cannot hold another attempt", got)
	}
	if a.Elapsed > 300*time.Millisecond+lateMargin {
		t.Errorf("answered after %s", a.Elapsed)
	}
}

// TestRefusedConnectionRetriedThenFallback: an upstream that is not listening is retried
// (the next attempt may reach a restarted process) and then answered from the fallback.
func TestRefusedConnectionRetriedThenFallback(t *testing.T) {
	r := startRouter(t, configFor(giftCommand, "http://"+upstreamtest.DeadAddr(t), "    retries: 2\n"+giftDeny))
	a := r.post(t, giftCommand, giftBody)
	if a.Body != giftDenyBody || a.Fallback != "upstream_error" {
		t.Errorf("got %s (fallback %q), want the deny fallback (upstream_error)", a.Body, a.Fallback)
	}
	if !containsLine(r.logs.String(), `"attempts":3`) {
		t.Errorf("log does not show 3 attempts:\n%s", r.logs.String())
	}
}

// TestAttemptTimeoutRetried: an attempt cut by attempt_timeout is retried on the next
// attempt while the deadline has room.
func TestAttemptTimeoutRetried(t *testing.T) {
	up := upstreamtest.Start(t, nil)
	slowFirst := upstreamtest.Slow(2*time.Second, upstreamtest.OK())
	up.Set(func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			slowFirst(w, r, n)
			return
		}
		upstreamtest.OK()(w, r, n)
	})
	r := startRouter(t, configFor(giftCommand, up.URL, "    deadline: 1500ms\n    attempt_timeout: 300ms\n    retries: 1\n"))
	a := r.post(t, giftCommand, giftBody)
	if a.Body != allowEnvelope || a.Fallback != "" {
		t.Errorf("got %s (fallback %q), want the second attempt's answer", a.Body, a.Fallback)
	}
	if a.Elapsed > time.Second {
		t.Errorf("answered after %s, want soon after the 300ms attempt timeout", a.Elapsed)
	}
}
