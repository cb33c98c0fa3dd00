package server_test

import (
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/shadow"
	"github.com/callback-router/callback-router/stats"
)

const (
	msgBody   = `{"CallbackCommand":"Group.CallbackBeforeSendMsg","GroupId":"@TGS#2J4SZEAEL","From_Account":"jared","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}}]}`
	denyBody  = `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"blocked by v2"}`
	allowBody = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"from the primary"}`
)

// shadowConfig routes group messages to primary and mirrors them to candidate.
func shadowConfig(primary, candidate, extra string) string {
	return fmt.Sprintf(`
tencent: {sdk_app_ids: [1400000001]}
defaults:
  breaker: {consecutive_failures: 3, open_for: 1m, half_open_requests: 1}
upstreams:
  moderation: {url: "%s/moderation"}
  moderation_v2: {url: "%s/v2"}
routes:
  - name: moderation
    commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    deadline: 500ms
    retries: 0
    fallback: {action: allow}
    shadow: {upstream: moderation_v2%s}
`, primary, candidate, extra)
}

// shadowEvents collects the comparisons the router reports, beside the status page's.
type shadowEvents struct {
	mu  sync.Mutex
	evs []server.ShadowEvent
}

func (s *shadowEvents) Observe(server.Event) {}
func (s *shadowEvents) Shadowed(ev server.ShadowEvent) {
	s.mu.Lock()
	s.evs = append(s.evs, ev)
	s.mu.Unlock()
}

// wait returns the events once there are n, or fails the test.
func (s *shadowEvents) wait(t *testing.T, n int) []server.ShadowEvent {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		s.mu.Lock()
		evs := append([]server.ShadowEvent(nil), s.evs...)
		s.mu.Unlock()
		if len(evs) >= n {
			return evs
		}
	}
	t.Fatalf("got fewer than %d shadow comparisons within 10 s", n)
	return nil
}

func TestShadowVerdictNeverReachesTencent(t *testing.T) {
	primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, allowBody))
	candidate := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, denyBody))
	evs, live := &shadowEvents{}, stats.New()
	r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ""), server.WithObserver(server.Observers(evs, live)))

	got := r.post(t, "Group.CallbackBeforeSendMsg", msgBody)
	if got.Status != 200 || got.Body != allowBody || got.Fallback != "" {
		t.Fatalf("Tencent got %d %q (fallback %q), want the primary's %q", got.Status, got.Body, got.Fallback, allowBody)
	}
	ev := evs.wait(t, 1)[0]
	if got, want := ev.Result, shadow.Verdict; got != want {
		t.Errorf("result: got %q, want %q", got, want)
	}
	if ev.Primary != "allow" || ev.Candidate != "deny 1" || ev.RequestID != got.Header.Get("X-Request-Id") || ev.App == "" {
		t.Errorf("event: got %+v, want allow against deny 1 under the callback's request id", ev)
	}
	// The candidate got the same bytes, query and request id, marked as a shadow.
	reqs := candidate.Requests()
	if len(reqs) != 1 {
		t.Fatalf("candidate requests: got %d, want 1", len(reqs))
	}
	p, c := primary.Requests()[0], reqs[0]
	if string(c.Body) != msgBody || c.RawQuery != p.RawQuery || c.Header.Get("X-Request-Id") != p.Header.Get("X-Request-Id") {
		t.Errorf("candidate got body %q query %q id %q; want the primary's %q %q %q", c.Body, c.RawQuery,
			c.Header.Get("X-Request-Id"), p.Body, p.RawQuery, p.Header.Get("X-Request-Id"))
	}
	if got, want := c.Header.Get(shadow.Header), "1"; got != want {
		t.Errorf("candidate's %s: got %q, want %q", shadow.Header, got, want)
	}
	if got := p.Header.Get(shadow.Header); got != "" {
		t.Errorf("the primary got %s: %q, want none", shadow.Header, got)
	}
	// The status panel and the log line are told after the observer above.
	testutil.Eventually(t, "the status panel to list the verdict", func() bool {
		panel := live.Shadow("moderation")
		return len(panel.Disagreements) == 1 && panel.Disagreements[0].RequestID == ev.RequestID
	})
	testutil.Eventually(t, "an info line saying the shadow disagrees", func() bool {
		logs := r.logs.String()
		return strings.Contains(logs, `"message":"shadow disagrees"`) && strings.Contains(logs, `"shadow_result":"verdict"`)
	})
}

// TestBadCandidateChangesNothing: whatever the candidate does, Tencent gets the primary's
// answer and the primary's breaker stays closed.
func TestBadCandidateChangesNothing(t *testing.T) {
	tests := []struct {
		name     string
		behavior func(u *upstreamtest.Upstream) upstreamtest.Behavior
		failure  string
	}{
		{name: "hangs", behavior: func(u *upstreamtest.Upstream) upstreamtest.Behavior { return u.Hang() }, failure: "no answer (timeout)"},
		{name: "resets", behavior: func(*upstreamtest.Upstream) upstreamtest.Behavior { return upstreamtest.Reset() }},
		{name: "answers garbage", behavior: func(*upstreamtest.Upstream) upstreamtest.Behavior {
			return upstreamtest.Answer(http.StatusOK, `<html>oops</html>`)
		}, failure: "no answer (not an envelope)"},
		{name: "answers 500", behavior: func(*upstreamtest.Upstream) upstreamtest.Behavior {
			return upstreamtest.Answer(http.StatusInternalServerError, `{}`)
		}, failure: "no answer (status 500)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, allowBody))
			candidate := upstreamtest.Start(t, upstreamtest.OK())
			candidate.Set(tt.behavior(candidate))
			evs := &shadowEvents{}
			r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ""), server.WithObserver(evs))
			const n = 4 // past the breakers' 3 consecutive failures
			for range n {
				if got := r.post(t, "Group.CallbackBeforeSendMsg", msgBody); got.Body != allowBody || got.Fallback != "" {
					t.Fatalf("Tencent got %q (fallback %q), want the primary's answer", got.Body, got.Fallback)
				}
			}
			for _, ev := range evs.wait(t, n) {
				if ev.Result != shadow.ShadowFailed {
					t.Errorf("result: got %q, want shadow_failed", ev.Result)
				}
				if tt.failure != "" && ev.Candidate != tt.failure && ev.Candidate != "no answer (breaker_open)" {
					t.Errorf("candidate: got %q, want %q", ev.Candidate, tt.failure)
				}
			}
			for _, up := range r.srv.Table().Upstreams["moderation"].States() {
				if got := up.State.String(); got != "closed" {
					t.Errorf("primary breaker: got %s, want closed", got)
				}
			}
		})
	}
}

func TestShadowBehindOpenBreakerIsNotCalled(t *testing.T) {
	primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, allowBody))
	candidate := upstreamtest.Start(t, upstreamtest.Answer(http.StatusServiceUnavailable, `{}`))
	evs := &shadowEvents{}
	r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ""), server.WithObserver(evs))
	for range 3 { // opens the candidate's breaker
		r.post(t, "Group.CallbackBeforeSendMsg", msgBody)
	}
	evs.wait(t, 3)
	hits := candidate.Hits()
	r.post(t, "Group.CallbackBeforeSendMsg", msgBody)
	ev := evs.wait(t, 4)[3]
	if ev.Result != shadow.ShadowFailed || ev.Candidate != "no answer (breaker_open)" || ev.Duration != 0 {
		t.Errorf("event: got %+v, want shadow_failed, breaker_open, not timed", ev)
	}
	if got := candidate.Hits(); got != hits {
		t.Errorf("candidate calls behind an open breaker: got %d more, want none", got-hits)
	}
}

func TestShadowMaxInFlightSkips(t *testing.T) {
	primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, allowBody))
	candidate := upstreamtest.Start(t, upstreamtest.OK())
	candidate.Set(candidate.Hang())
	evs := &shadowEvents{}
	r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ", max_in_flight: 1"), server.WithObserver(evs))
	r.post(t, "Group.CallbackBeforeSendMsg", msgBody) // its mirror hangs until the 500 ms deadline
	r.post(t, "Group.CallbackBeforeSendMsg", msgBody)
	evs2 := evs.wait(t, 2)
	if got, want := evs2[0].Result, shadow.Skipped; got != want {
		t.Errorf("the second callback's mirror: got %q, want %q", got, want)
	}
	if got, want := evs2[1].Result, shadow.ShadowFailed; got != want {
		t.Errorf("the first callback's mirror: got %q, want %q", got, want)
	}
	if got, want := candidate.Hits(), int64(1); got != want {
		t.Errorf("candidate calls: got %d, want %d", got, want)
	}
}

func TestPrimaryFailedCandidateAnswered(t *testing.T) {
	primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusBadGateway, `bad gateway`))
	candidate := upstreamtest.Start(t, upstreamtest.OK())
	evs := &shadowEvents{}
	r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ""), server.WithObserver(evs))
	if got := r.post(t, "Group.CallbackBeforeSendMsg", msgBody); got.Fallback != "upstream_error" {
		t.Fatalf("fallback: got %q, want upstream_error", got.Fallback)
	}
	ev := evs.wait(t, 1)[0]
	if ev.Result != shadow.PrimaryFailed || ev.Primary != "fallback allow (upstream_error)" {
		t.Errorf("event: got %+v, want primary_failed after a fallback allow", ev)
	}
}

func TestShadowPercentZeroMirrorsNothing(t *testing.T) {
	primary := upstreamtest.Start(t, upstreamtest.Answer(http.StatusOK, allowBody))
	candidate := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, shadowConfig(primary.URL, candidate.URL, ", percent: 0"))
	for range 5 {
		r.post(t, "Group.CallbackBeforeSendMsg", msgBody)
	}
	time.Sleep(50 * time.Millisecond)
	if got := candidate.Hits(); got != 0 {
		t.Errorf("candidate calls at percent 0: got %d, want 0", got)
	}
}

func TestAsyncShadowGetsADeliveryCopy(t *testing.T) {
	audit := upstreamtest.Start(t, upstreamtest.OK())
	candidate := upstreamtest.Start(t, upstreamtest.OK())
	evs := &shadowEvents{}
	r := startRouter(t, fmt.Sprintf(`
upstreams:
  audit: {url: "%s/events"}
  audit_v2: {url: "%s/v2"}
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
    shadow: {upstream: audit_v2}
`, audit.URL, candidate.URL), server.WithObserver(evs))
	const body = `{"CallbackCommand":"Live.CallbackAfterCreateRoom","RoomInfo":{"RoomId":"r1"}}`
	if got := r.post(t, "Live.CallbackAfterCreateRoom", body); got.Status != 200 || got.Fallback != "" {
		t.Fatalf("Tencent got %d (fallback %q), want 200 queued", got.Status, got.Fallback)
	}
	for deadline := time.Now().Add(10 * time.Second); candidate.Hits() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	reqs := candidate.Requests()
	if len(reqs) == 0 {
		t.Fatal("the candidate got no delivery copy")
	}
	if string(reqs[0].Body) != body || reqs[0].Header.Get(shadow.Header) != "1" || reqs[0].Header.Get("X-Callback-Event-Id") == "" {
		t.Errorf("copy: body %q, %s %q, event id %q; want the callback marked as a shadow", reqs[0].Body,
			shadow.Header, reqs[0].Header.Get(shadow.Header), reqs[0].Header.Get("X-Callback-Event-Id"))
	}
	for deadline := time.Now().Add(10 * time.Second); audit.Hits() == 0 && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	if got := audit.Requests(); len(got) == 0 || got[0].Header.Get(shadow.Header) != "" {
		t.Errorf("the route's own upstream: got %d deliveries, the first marked %q; want one unmarked", len(got), shadow.Header)
	}
	evs.mu.Lock()
	defer evs.mu.Unlock()
	if len(evs.evs) != 0 {
		t.Errorf("an async shadow is compared: got %+v, want nothing", evs.evs)
	}
}
