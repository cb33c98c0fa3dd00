package stats

import (
	"fmt"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/shadow"
)

func TestShadowPanel(t *testing.T) {
	l := New()
	clock := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return clock }
	send := func(r shadow.Result, n int) {
		for i := range n {
			l.Shadowed(server.ShadowEvent{Received: clock, Route: "moderation", Result: r,
				RequestID: fmt.Sprintf("%s-%d", r, i), Command: "Group.CallbackBeforeSendMsg", App: "1400000001",
				Primary: "allow", Candidate: "deny 1", Duration: 3 * time.Millisecond})
		}
	}
	send(shadow.Agree, 90)
	send(shadow.Verdict, 6)
	send(shadow.Rewrite, 4)
	send(shadow.ShadowFailed, 7)
	send(shadow.PrimaryFailed, 2)
	send(shadow.Skipped, 5)

	st := l.Shadow("moderation")
	if st.AgreementRate == nil {
		t.Fatal("agreement rate: got none, want 0.9")
	}
	if got, want := *st.AgreementRate, 0.9; got != want {
		t.Errorf("agreement rate: got %v, want %v (agree over agree+verdict+rewrite)", got, want)
	}
	for r, want := range map[shadow.Result]int64{shadow.Agree: 90, shadow.Verdict: 6, shadow.Rewrite: 4,
		shadow.ShadowFailed: 7, shadow.PrimaryFailed: 2, shadow.Skipped: 5} {
		if got := st.Counts[string(r)]; got != want {
			t.Errorf("counts[%s]: got %d, want %d", r, got, want)
		}
	}
	// Disagreements: 6 verdicts, 4 rewrites, 2 primary_failed, the newest first.
	if got, want := len(st.Disagreements), 12; got != want {
		t.Fatalf("disagreements: got %d, want %d", got, want)
	}
	d := st.Disagreements[0]
	if got, want := d.RequestID, "primary_failed-1"; got != want {
		t.Errorf("newest disagreement: got %s, want %s", got, want)
	}
	if d.TencentGot != "allow" || d.CandidateAnswered != "deny 1" || d.App != "1400000001" || d.CandidateMs != 3 {
		t.Errorf("disagreement fields: got %+v", d)
	}

	// Only the last 20 are kept.
	send(shadow.Verdict, 30)
	if got, want := len(l.Shadow("moderation").Disagreements), 20; got != want {
		t.Errorf("disagreements kept: got %d, want %d", got, want)
	}

	// Ten minutes later the window is empty; the list stays.
	clock = clock.Add(shadowWindow + time.Minute)
	st = l.Shadow("moderation")
	if st.AgreementRate != nil || st.Counts[string(shadow.Agree)] != 0 {
		t.Errorf("after the window: got rate %v and counts %v, want none", st.AgreementRate, st.Counts)
	}
	if got := len(st.Disagreements); got != 20 {
		t.Errorf("disagreements after the window: got %d, want 20", got)
	}
	if got := l.Shadow("never-shadowed"); got.AgreementRate != nil || len(got.Disagreements) != 0 {
		t.Errorf("a route that never shadowed: got %+v, want an empty panel", got)
	}
}

func TestShadowWindowSlides(t *testing.T) {
	l := New()
	clock := time.Unix(1_700_000_000, 0)
	l.now = func() time.Time { return clock }
	// One agree a minute for 15 minutes: the window keeps the last ten or eleven buckets'.
	for range 15 {
		l.Shadowed(server.ShadowEvent{Route: "r", Result: shadow.Agree})
		clock = clock.Add(time.Minute)
	}
	got := l.Shadow("r").Counts[string(shadow.Agree)]
	if got < 9 || got > 10 {
		t.Errorf("agrees in the last 10 minutes: got %d, want 9 or 10", got)
	}
}

func TestInstallDropsShadowPanels(t *testing.T) {
	l := New()
	l.Shadowed(server.ShadowEvent{Route: "moderation", Result: shadow.Verdict})
	l.Shadowed(server.ShadowEvent{Route: "gifts", Result: shadow.Verdict})
	table := routertest.Table(t, `
upstreams: {a: {url: "http://127.0.0.1:9001/a"}, b: {url: "http://127.0.0.1:9002/b"}}
routes:
  - {name: moderation, commands: ["Group.*"], upstream: a, shadow: {upstream: b}}
  - {name: gifts, commands: ["Live.*"], upstream: a}`, router.Options{})
	l.Install(table)
	if got := len(l.Shadow("moderation").Disagreements); got != 1 {
		t.Errorf("a route still shadowing: got %d disagreements, want 1", got)
	}
	if got := len(l.Shadow("gifts").Disagreements); got != 0 {
		t.Errorf("a route no longer shadowing: got %d disagreements, want 0", got)
	}
}
