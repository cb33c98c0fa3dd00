package server_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// breakerConfig routes gifts to url with a breaker that opens after 3 failures for openFor.
func breakerConfig(urls []string, openFor string, routeKeys string) string {
	return fmt.Sprintf(`
defaults:
  breaker: {consecutive_failures: 3, open_for: %s, half_open_requests: 1}
upstreams:
  gifts: {urls: [%s]}
routes:
  - commands: [%q]
    upstream: gifts
%s%s
`, openFor, strings.Join(urls, ", "), giftCommand, routeKeys, giftDeny)
}

func (r *testRouter) breakerStates(name string) []gobreaker.State {
	var out []gobreaker.State
	for _, s := range r.srv.Table().Upstreams[name].States() {
		out = append(out, s.State)
	}
	return out
}

// TestBreakerOpensAnswersAtOnceAndCloses: consecutive failures open the instance's breaker;
// an open breaker answers with the fallback at once without calling the upstream; after
// open_for a half-open probe that succeeds closes it again.
func TestBreakerOpensAnswersAtOnceAndCloses(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Answer(500, "down"))
	r := startRouter(t, breakerConfig([]string{up.URL}, "300ms", "    retries: 0\n"))

	for i := range 3 {
		if a := r.post(t, giftCommand, giftBody); a.Fallback != "upstream_error" {
			t.Fatalf("failure %d: fallback %q, want upstream_error", i+1, a.Fallback)
		}
	}
	if got, want := r.breakerStates("gifts")[0], gobreaker.StateOpen; got != want {
		t.Fatalf("breaker %s after 3 failures, want %s", got, want)
	}

	hits := up.Hits()
	var slowest time.Duration
	for range 20 {
		a := r.post(t, giftCommand, giftBody)
		if a.Body != giftDenyBody || a.Fallback != "breaker_open" {
			t.Fatalf("open breaker answered %s (fallback %q), want the deny fallback (breaker_open)", a.Body, a.Fallback)
		}
		slowest = max(slowest, a.Elapsed)
	}
	if got := up.Hits() - hits; got != 0 {
		t.Errorf("open breaker let %d calls through", got)
	}
	t.Logf("slowest breaker_open answer, client side: %s", slowest)
	// The promise is under 5 ms; the margin is for -race on a shared machine. A router
	// that waited for the upstream or a deadline would take 1.8 s.
	if slowest > 100*time.Millisecond {
		t.Errorf("slowest breaker_open answer took %s, want at once", slowest)
	}

	up.Set(upstreamtest.OK())
	time.Sleep(350 * time.Millisecond) // past open_for: the next call is a probe
	if a := r.post(t, giftCommand, giftBody); a.Body != allowEnvelope || a.Fallback != "" {
		t.Fatalf("half-open probe answered %s (fallback %q), want the upstream's allow", a.Body, a.Fallback)
	}
	if got, want := r.breakerStates("gifts")[0], gobreaker.StateClosed; got != want {
		t.Errorf("breaker %s after a successful probe, want %s", got, want)
	}
}

// TestBreakerProbeFailureReopens: a failed half-open probe opens the breaker again.
func TestBreakerProbeFailureReopens(t *testing.T) {
	up := upstreamtest.Start(t, upstreamtest.Answer(503, "down"))
	r := startRouter(t, breakerConfig([]string{up.URL}, "200ms", "    retries: 0\n"))
	for range 3 {
		r.post(t, giftCommand, giftBody)
	}
	time.Sleep(250 * time.Millisecond)
	if a := r.post(t, giftCommand, giftBody); a.Fallback != "upstream_error" {
		t.Fatalf("probe answered fallback %q, want upstream_error (the probe reached the upstream)", a.Fallback)
	}
	if got, want := r.breakerStates("gifts")[0], gobreaker.StateOpen; got != want {
		t.Errorf("breaker %s after a failed probe, want %s", got, want)
	}
}

// TestBreakerCountsWhatFails: timeouts and bad envelopes open the breaker; callbacks whose
// client went away do not.
func TestBreakerCountsWhatFails(t *testing.T) {
	t.Run("timeouts count", func(t *testing.T) {
		up := upstreamtest.Start(t, nil)
		up.Set(up.Hang())
		r := startRouter(t, breakerConfig([]string{up.URL}, "10s", "    deadline: 100ms\n"))
		for range 3 {
			if a := r.post(t, giftCommand, giftBody); a.Fallback != "timeout" {
				t.Fatalf("fallback %q, want timeout", a.Fallback)
			}
		}
		if got := r.breakerStates("gifts")[0]; got != gobreaker.StateOpen {
			t.Errorf("breaker %s after 3 timeouts, want open", got)
		}
	})
	t.Run("bad envelopes count", func(t *testing.T) {
		up := upstreamtest.Start(t, upstreamtest.Answer(200, `<html>oops</html>`))
		r := startRouter(t, breakerConfig([]string{up.URL}, "10s", ""))
		for range 3 {
			r.post(t, giftCommand, giftBody)
		}
		if got := r.breakerStates("gifts")[0]; got != gobreaker.StateOpen {
			t.Errorf("breaker %s after 3 HTML answers, want open", got)
		}
	})
	t.Run("a client that went away does not count", func(t *testing.T) {
		// Only the net/http engine notices a client hanging up (see config.Server.Engine).
		up := upstreamtest.Start(t, nil)
		up.Set(up.Hang())
		r := startRouter(t, "server: {engine: net/http}\n"+breakerConfig([]string{up.URL}, "10s", "    deadline: 1500ms\n"))
		for range 5 {
			ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
			req, _ := http.NewRequestWithContext(ctx, http.MethodPost, r.URL+"?CallbackCommand="+giftCommand, strings.NewReader(giftBody))
			if resp, err := client.Do(req); err == nil {
				resp.Body.Close()
				t.Errorf("got an answer before the client gave up")
			}
			cancel()
		}
		testutil.Eventually(t, "five client_gone lines", func() bool { return strings.Count(r.logs.String(), `"fallback_reason":"client_gone"`) == 5 })
		if got := r.breakerStates("gifts")[0]; got != gobreaker.StateClosed {
			t.Errorf("breaker %s after 5 abandoned callbacks, want closed", got)
		}
	})
}

// TestBreakerPerInstance: one failing instance opens only its own breaker; callbacks go to
// the healthy instance.
func TestBreakerPerInstance(t *testing.T) {
	bad := upstreamtest.Start(t, upstreamtest.Answer(503, "down"))
	good := upstreamtest.Start(t, upstreamtest.OK())
	r := startRouter(t, breakerConfig([]string{bad.URL, good.URL}, "10s", "    retries: 1\n"))
	for i := range 20 {
		if a := r.post(t, giftCommand, giftBody); a.Body != allowEnvelope {
			t.Fatalf("callback %d answered %s (fallback %q), want the healthy instance's allow", i, a.Body, a.Fallback)
		}
	}
	states := r.breakerStates("gifts")
	if states[0] != gobreaker.StateOpen || states[1] != gobreaker.StateClosed {
		t.Errorf("breakers %v, want [open closed]", states)
	}
	if got := bad.Hits(); got != 3 {
		t.Errorf("failing instance hit %d times, want 3 (then its breaker opened)", got)
	}
}
