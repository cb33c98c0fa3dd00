package proxy_test

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// Every test here calls real loopback upstreams (internal/upstreamtest) through the real
// stack: Caller → go-retryablehttp → net/http.Client → the transport → fasthttp.

const query = "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&Sign=s3cr3t&RequestTime=1"

var body = []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftId":"rocket"}`)

// breakerNeverOpens keeps breakers out of a test that is not about them.
var breakerNeverOpens = proxy.BreakerSettings{ConsecutiveFailures: 1000, OpenFor: time.Minute, HalfOpenRequests: 1}

func newUpstream(t *testing.T, urls []string, b proxy.BreakerSettings, pipeline ...int) *proxy.Upstream {
	t.Helper()
	spec := proxy.Spec{Name: "gifts", URLs: urls, Breaker: b, MaxConns: 16, MaxResponseBytes: 1 << 10}
	if len(pipeline) > 0 {
		spec.Pipeline = pipeline[0]
	}
	up, err := proxy.New(spec)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(up.CloseIdleConnections)
	return up
}

func forward(c *proxy.Caller, within time.Duration) proxy.Result {
	return c.Forward(context.Background(), time.Now().Add(within), &proxy.Call{Body: body, RawQuery: query, RequestID: "req-1"})
}

// outcome is what a test compares of a Result.
type outcome struct {
	ok       bool
	reason   proxy.Reason
	attempts int
	status   int
	err      error // errors.Is target; nil to skip
	hits     int64 // requests the upstream received
}

func outcomeOf(res proxy.Result, hits int64) outcome {
	return outcome{ok: res.OK(), reason: res.Reason, attempts: res.Attempts, status: res.Status, hits: hits}
}

func (want outcome) check(t *testing.T, res proxy.Result, hits int64) {
	t.Helper()
	got := outcomeOf(res, hits)
	if want.err != nil && !errors.Is(res.Err, want.err) {
		t.Errorf("err %v, want %v", res.Err, want.err)
	}
	got.err = want.err
	if got != want {
		t.Errorf("got %+v, want %+v (err %v)", got, want, res.Err)
	}
}

// TestRetryPolicy: what is retried — connection errors and the listed statuses, nothing
// else — how often, and what the result says.
func TestRetryPolicy(t *testing.T) {
	redirect := func(w http.ResponseWriter, r *http.Request, _ int64) {
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}
	tests := []struct {
		name   string
		behave upstreamtest.Behavior // nil: a dead address
		policy proxy.Policy
		want   outcome
	}{
		{"200 envelope", upstreamtest.OK(), proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{ok: true, attempts: 1, status: 200, hits: 1}},
		{"503 listed: retried until the retries are spent", upstreamtest.Answer(503, `{}`), proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 3, status: 503, err: proxy.ErrStatus, hits: 3}},
		{"503 once, then the envelope", upstreamtest.FailFirst(1, 503, upstreamtest.OK()), proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{ok: true, attempts: 2, status: 200, hits: 2}},
		{"500 not listed", upstreamtest.Answer(500, `{}`), proxy.Policy{Retries: 2, RetryOn: []int{502, 503, 504}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 500, err: proxy.ErrStatus, hits: 1}},
		{"no retries", upstreamtest.Answer(503, `{}`), proxy.Policy{Retries: 0, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 503, err: proxy.ErrStatus, hits: 1}},
		{"200 HTML: a broken upstream, not retried", upstreamtest.Answer(200, `<html>oops</html>`), proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 200, err: proxy.ErrBadEnvelope, hits: 1}},
		{"200 JSON without ErrorCode", upstreamtest.Answer(200, `{"ActionStatus":"OK"}`), proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 200, err: proxy.ErrBadEnvelope, hits: 1}},
		{"answer over max_response_bytes: not retried", upstreamtest.Answer(200, `{"ErrorCode":0,"Pad":"`+strings.Repeat("x", 2000)+`"}`),
			proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, err: proxy.ErrTooLarge, hits: 1}},
		{"redirect: the answer, not followed", redirect, proxy.Policy{Retries: 2, RetryOn: []int{503}},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 302, err: proxy.ErrStatus, hits: 1}},
		{"connection reset: retried", upstreamtest.Reset(), proxy.Policy{Retries: 2},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 3, hits: 3}},
		{"connection refused: retried", nil, proxy.Policy{Retries: 2},
			outcome{reason: proxy.ReasonUpstreamError, attempts: 3}},
	}
	// Pipelined, a refused connection is fasthttp's pipelining client's to redial, once a
	// second; the attempt waits for its deadline meanwhile.
	pipelined := map[string]outcome{
		"connection refused: retried": {reason: proxy.ReasonTimeout, attempts: 1, err: context.DeadlineExceeded},
	}
	for _, pipeline := range []int{0, 2} {
		for _, tt := range tests {
			want := tt.want
			if w, ok := pipelined[tt.name]; ok && pipeline > 0 {
				want = w
			}
			t.Run(pipelineName(pipeline)+"/"+tt.name, func(t *testing.T) {
				retryPolicyCase(t, tt.behave, tt.policy, want, pipeline)
			})
		}
	}
}

func pipelineName(n int) string {
	if n == 0 {
		return "one at a time"
	}
	return "pipelined over " + strconv.Itoa(n)
}

func retryPolicyCase(t *testing.T, behave upstreamtest.Behavior, policy proxy.Policy, want outcome, pipeline int) {
	url := "http://" + upstreamtest.DeadAddr(t) + "/gifts"
	var up *upstreamtest.Upstream
	if behave != nil {
		up = upstreamtest.Start(t, behave)
		url = up.URL + "/gifts"
	}
	res := forward(newUpstream(t, []string{url}, breakerNeverOpens, pipeline).Caller(policy), 2*time.Second)
	var hits int64
	if up != nil {
		hits = up.Hits()
	}
	want.check(t, res, hits)
	if res.OK() && string(res.Body) != upstreamtest.AllowBody {
		t.Errorf("body %q, want the upstream's %q", res.Body, upstreamtest.AllowBody)
	}
	if !res.OK() && res.Body != nil {
		t.Errorf("a failed forward carries a body: %q", res.Body)
	}
	if res.Instance != url && want.attempts > 0 {
		t.Errorf("instance %q, want %q", res.Instance, url)
	}
}

// TestAttemptsCarryTheCallback: every attempt posts the exact body with Tencent's query, the
// same X-Request-Id, its own number, what is left of the deadline, X-Forwarded-For, the
// command and the app, and the call's extra headers — which cannot replace the router's own.
func TestAttemptsCarryTheCallback(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.FailFirst(2, 503, upstreamtest.OK()))
	c := newUpstream(t, []string{up.URL + "/gifts"}, breakerNeverOpens).Caller(proxy.Policy{Retries: 2, RetryOn: []int{503}})
	const within = 1500 * time.Millisecond
	res := c.Forward(context.Background(), time.Now().Add(within), &proxy.Call{
		Body: body, RawQuery: query, RequestID: "req-7", ForwardedFor: "203.0.113.7",
		Command: "Live.CallbackBeforeSendGift", App: "prod",
		Headers: []proxy.Header{{Name: "x-callback-event-id", Value: "ev-1"}, {Name: "X-Request-Id", Value: "forged"},
			{Name: "x-callback-app", Value: "forged"}, {Name: "X-Callback-Command", Value: "forged"}},
	})
	if !res.OK() {
		t.Fatalf("forward failed: %s %v", res.Reason, res.Err)
	}
	reqs := up.Requests()
	if len(reqs) != 3 {
		t.Fatalf("upstream got %d requests, want 3", len(reqs))
	}
	lastLeft := within.Milliseconds() + 1
	for i, r := range reqs {
		n := strconv.Itoa(i + 1)
		for name, want := range map[string]string{
			"X-Request-Id": "req-7", "X-Callback-Attempt": n, "X-Forwarded-For": "203.0.113.7",
			"X-Callback-Event-Id": "ev-1", "Content-Type": "application/json",
			"X-Callback-Command": "Live.CallbackBeforeSendGift", "X-Callback-App": "prod",
		} {
			if got := r.Header.Values(name); len(got) != 1 || got[0] != want {
				t.Errorf("attempt %s: %s = %q, want %q once", n, name, got, want)
			}
		}
		left, err := strconv.ParseInt(r.Header.Get("X-Callback-Deadline-Ms"), 10, 64)
		if err != nil || left <= 0 || left >= lastLeft {
			t.Errorf("attempt %s: X-Callback-Deadline-Ms %q, want a positive number below %d", n, r.Header.Get("X-Callback-Deadline-Ms"), lastLeft)
		}
		lastLeft = left
		if r.Method != http.MethodPost || r.Path != "/gifts" || r.RawQuery != query || string(r.Body) != string(body) {
			t.Errorf("attempt %s: %s %s?%s %q, want POST /gifts?%s with the callback's bytes", n, r.Method, r.Path, r.RawQuery, r.Body, query)
		}
	}
}

// TestCommandAndAppLeftOutWhenUnknown: a call without command or app (a delivery stored
// before apps were recorded) sends neither header rather than an empty one.
func TestCommandAndAppLeftOutWhenUnknown(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.OK())
	c := newUpstream(t, []string{up.URL}, breakerNeverOpens).Caller(proxy.Policy{})
	if res := c.Forward(context.Background(), time.Now().Add(time.Second), &proxy.Call{Body: body, RequestID: "req-8"}); !res.OK() {
		t.Fatalf("forward failed: %s %v", res.Reason, res.Err)
	}
	for _, name := range []string{"X-Callback-Command", "X-Callback-App"} {
		if got := up.Requests()[0].Header.Values(name); got != nil {
			t.Errorf("%s = %q, want no header", name, got)
		}
	}
}

// TestInstanceRotation: calls take the instances in turn, skip one whose breaker is open,
// and are refused at once, without an attempt, when every breaker is open.
func TestInstanceRotation(t *testing.T) {
	a, b, c := upstreamtest.Start(t, upstreamtest.OK()), upstreamtest.Start(t, upstreamtest.OK()), upstreamtest.Start(t, upstreamtest.OK())
	openOnFirstFailure := proxy.BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute, HalfOpenRequests: 1}
	up := newUpstream(t, []string{a.URL + "/a", b.URL + "/b", c.URL + "/c"}, openOnFirstFailure)
	caller := up.Caller(proxy.Policy{Retries: 0})

	name := func(res proxy.Result) string { return res.Instance[strings.LastIndex(res.Instance, "/"):] }
	var order []string
	for range 6 {
		res := forward(caller, time.Second)
		if !res.OK() {
			t.Fatalf("forward failed: %s %v", res.Reason, res.Err)
		}
		order = append(order, name(res))
	}
	if got := strings.Join(order, " "); got != "/b /c /a /b /c /a" {
		t.Errorf("instances in order %s, want each in turn", got)
	}

	// b fails once: its breaker opens, and the rotation goes on without it.
	b.Set(upstreamtest.Answer(500, `{}`))
	for i := 0; name(forward(caller, time.Second)) != "/b"; i++ {
		if i == 3 {
			t.Fatal("three calls and none went to b")
		}
	}
	bHits := b.Hits()
	order = order[:0]
	for range 4 {
		res := forward(caller, time.Second)
		if !res.OK() {
			t.Fatalf("forward failed with b's breaker open: %s %v", res.Reason, res.Err)
		}
		order = append(order, name(res))
	}
	if got := strings.Join(order, " "); got != "/c /a /c /a" && got != "/a /c /a /c" {
		t.Errorf("instances in order %s with b's breaker open, want a and c in turn", got)
	}
	if b.Hits() != bHits {
		t.Errorf("b got %d calls with its breaker open", b.Hits()-bHits)
	}
	if !up.Available() {
		t.Error("Available() = false with two instances closed")
	}

	// Every breaker open: refused at once, no attempt made.
	a.Set(upstreamtest.Answer(500, `{}`))
	c.Set(upstreamtest.Answer(500, `{}`))
	for range 4 {
		forward(caller, time.Second)
	}
	if up.Available() {
		t.Fatalf("Available() = true with every breaker open: %v", up.States())
	}
	hits := a.Hits() + b.Hits() + c.Hits()
	start := time.Now()
	res := forward(caller, time.Second)
	outcome{reason: proxy.ReasonBreakerOpen, attempts: 0, hits: 0}.check(t, res, a.Hits()+b.Hits()+c.Hits()-hits)
	if took := time.Since(start); took > 200*time.Millisecond {
		t.Errorf("an open breaker took %v to answer", took)
	}
	for _, s := range up.States() {
		if s.State != gobreaker.StateOpen {
			t.Errorf("%s is %s, want open", s.URL, s.State)
		}
	}
}

// TestBreaker: failed attempts open it (a bad envelope is a failure like a 500), it then
// refuses at once; a caller that went away does not count.
func TestBreaker(t *testing.T) {
	settings := proxy.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute, HalfOpenRequests: 1}
	for _, tt := range []struct {
		name   string
		behave upstreamtest.Behavior
	}{
		{"500", upstreamtest.Answer(500, `{}`)},
		{"200 without an envelope", upstreamtest.Answer(200, `not json`)},
	} {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.Start(t, tt.behave)
			up := newUpstream(t, []string{u.URL}, settings)
			c := up.Caller(proxy.Policy{})
			forward(c, time.Second)
			if !up.Available() {
				t.Fatal("open after one failure; consecutive_failures is 2")
			}
			forward(c, time.Second)
			if up.Available() {
				t.Fatal("still closed after two failures")
			}
			outcome{reason: proxy.ReasonBreakerOpen, hits: 2}.check(t, forward(c, time.Second), u.Hits())
		})
	}
	t.Run("caller gone", func(t *testing.T) {
		u := upstreamtest.Start(t, upstreamtest.Slow(200*time.Millisecond, upstreamtest.OK()))
		up := newUpstream(t, []string{u.URL}, proxy.BreakerSettings{ConsecutiveFailures: 1, OpenFor: time.Minute, HalfOpenRequests: 1})
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(50*time.Millisecond, cancel)
		res := up.Caller(proxy.Policy{Retries: 2}).Forward(ctx, time.Now().Add(150*time.Millisecond), &proxy.Call{Body: body})
		if res.Reason != proxy.ReasonClientGone {
			t.Errorf("reason %q, want %q", res.Reason, proxy.ReasonClientGone)
		}
		if res.Attempts != 1 {
			t.Errorf("%d attempts after the caller went away, want 1", res.Attempts)
		}
		if !up.Available() {
			t.Error("a call the caller abandoned opened the breaker")
		}
	})
}

// TestDeadline: an attempt the deadline cannot hold is never started; a hung upstream is
// given up at the deadline; attempt_timeout cuts one attempt and leaves room for the next.
func TestDeadline(t *testing.T) {
	t.Run("no room for a retry", func(t *testing.T) {
		u := upstreamtest.Start(t, upstreamtest.Answer(503, `{}`))
		c := newUpstream(t, []string{u.URL}, breakerNeverOpens).Caller(proxy.Policy{Retries: 3, RetryOn: []int{503}})
		// Retries 3: the longest backoff is 80 ms, plus 50 ms for the attempt.
		outcome{reason: proxy.ReasonUpstreamError, attempts: 1, status: 503, err: proxy.ErrStatus, hits: 1}.check(t, forward(c, 100*time.Millisecond), u.Hits())
	})
	t.Run("room for every retry", func(t *testing.T) {
		u := upstreamtest.Start(t, upstreamtest.Answer(503, `{}`))
		c := newUpstream(t, []string{u.URL}, breakerNeverOpens).Caller(proxy.Policy{Retries: 3, RetryOn: []int{503}})
		outcome{reason: proxy.ReasonUpstreamError, attempts: 4, status: 503, err: proxy.ErrStatus, hits: 4}.check(t, forward(c, 2*time.Second), u.Hits())
	})
	for _, pipeline := range []int{0, 1} {
		t.Run("hung upstream, "+pipelineName(pipeline), func(t *testing.T) {
			u := upstreamtest.Start(t, upstreamtest.OK())
			u.Set(u.Hang())
			c := newUpstream(t, []string{u.URL}, breakerNeverOpens, pipeline).Caller(proxy.Policy{Retries: 2})
			start := time.Now()
			res := forward(c, 300*time.Millisecond)
			took := time.Since(start)
			outcome{reason: proxy.ReasonTimeout, attempts: 1, err: context.DeadlineExceeded, hits: 1}.check(t, res, u.Hits())
			if took < 290*time.Millisecond || took > 800*time.Millisecond {
				t.Errorf("gave up after %v, want at the 300 ms deadline", took)
			}
		})
	}
	t.Run("attempt timeout", func(t *testing.T) {
		u := upstreamtest.Start(t, upstreamtest.Slow(time.Second, upstreamtest.OK()))
		c := newUpstream(t, []string{u.URL}, breakerNeverOpens).Caller(proxy.Policy{Retries: 1, AttemptTimeout: 100 * time.Millisecond})
		start := time.Now()
		res := forward(c, 900*time.Millisecond)
		took := time.Since(start)
		outcome{reason: proxy.ReasonUpstreamError, attempts: 2, hits: 2}.check(t, res, u.Hits())
		if took < 200*time.Millisecond || took > 700*time.Millisecond {
			t.Errorf("two attempts of 100 ms took %v", took)
		}
		if res.Err == nil || !strings.Contains(res.Err.Error(), "attempt_timeout") {
			t.Errorf("err %v, want the attempt timeout named", res.Err)
		}
	})
}

// TestErrorsNeverQuoteTheQuery: net/http quotes the request's URL in its errors, and the
// request's URL carries Tencent's query (Sign included): no Result carries it.
func TestErrorsNeverQuoteTheQuery(t *testing.T) {
	for name, url := range map[string]string{
		"refused": "http://" + upstreamtest.DeadAddr(t) + "/x",
		"reset":   upstreamtest.Start(t, upstreamtest.Reset()).URL,
		"503":     upstreamtest.Start(t, upstreamtest.Answer(503, `{}`)).URL,
	} {
		res := forward(newUpstream(t, []string{url}, breakerNeverOpens).Caller(proxy.Policy{Retries: 1, RetryOn: []int{503}}), time.Second)
		if res.Err == nil {
			t.Fatalf("%s: no error", name)
		}
		for _, s := range []string{res.Err.Error(), res.Instance} {
			if strings.Contains(s, "s3cr3t") || strings.Contains(s, "SdkAppid") {
				t.Errorf("%s: %q quotes the query", name, s)
			}
		}
	}
}

// TestAnswerIsReadWhole: the body handed back is the caller's own copy, whole.
func TestAnswerIsReadWhole(t *testing.T) {
	long := `{"ErrorCode":0,"ErrorInfo":"` + strings.Repeat("y", 900) + `"}`
	u := upstreamtest.Start(t, upstreamtest.Answer(200, long))
	c := newUpstream(t, []string{u.URL}, breakerNeverOpens).Caller(proxy.Policy{})
	first := forward(c, time.Second)
	second := forward(c, time.Second) // reuses the pooled buffers of the first
	if string(first.Body) != long || string(second.Body) != long {
		t.Errorf("bodies %d and %d bytes, want the %d-byte answer twice", len(first.Body), len(second.Body), len(long))
	}
}
