package stats

import (
	"sync"
	"time"

	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/shadow"
)

// Shadow panel sizes: the agreement rate covers shadowWindow in shadowSlots buckets, and
// each route lists its last recentDisagreements disagreements.
const (
	shadowWindow         = 10 * time.Minute
	shadowSlots          = 60
	shadowSlotSeconds    = int64(shadowWindow / time.Second / shadowSlots)
	recentDisagreements  = 20
	shadowResultsCounted = 6 // len(shadow.Results)
)

// Disagreement is one mirrored callback whose candidate would have changed what Tencent got
// (verdict, rewrite) or answered where Tencent got a fallback (primary_failed). It names the
// callback and what each side said, never a body.
type Disagreement struct {
	Time      time.Time `json:"time"`
	Command   string    `json:"command"`
	App       string    `json:"app"`
	RequestID string    `json:"request_id"`
	// TencentGot is the answer Tencent got; CandidateAnswered the candidate's.
	TencentGot        string  `json:"tencent_got"`
	CandidateAnswered string  `json:"candidate_answered"`
	Result            string  `json:"result"`
	CandidateMs       float64 `json:"candidate_ms"`
}

// ShadowStats is a route's shadow panel.
type ShadowStats struct {
	// WindowSeconds is what Counts and AgreementRate cover.
	WindowSeconds int64            `json:"window_s"`
	Counts        map[string]int64 `json:"counts"`
	// AgreementRate is agree ÷ (agree + verdict + rewrite): of the callbacks both sides
	// answered, the share where the candidate would have changed nothing. Nil when none.
	AgreementRate *float64 `json:"agreement_rate"`
	// Disagreements are the last ones, the newest first.
	Disagreements []Disagreement `json:"disagreements"`
}

// shadowSlot counts results over shadowSlotSeconds seconds.
type shadowSlot struct {
	start  int64 // unix second the slot began; older contents are stale
	counts [shadowResultsCounted]uint32
}

// shadowRoute is one route's results window and disagreement list.
type shadowRoute struct {
	mu            sync.Mutex
	slots         [shadowSlots]shadowSlot
	disagreements *ring[Disagreement]
}

func newShadowRoute() *shadowRoute {
	return &shadowRoute{disagreements: newRing[Disagreement](recentDisagreements)}
}

func resultID(r shadow.Result) int {
	for i, x := range shadow.Results {
		if x == r {
			return i
		}
	}
	return -1
}

func (s *shadowRoute) add(now int64, ev server.ShadowEvent) {
	id := resultID(ev.Result)
	if id < 0 {
		return
	}
	start := now - now%shadowSlotSeconds
	s.mu.Lock()
	slot := &s.slots[(start/shadowSlotSeconds)%shadowSlots]
	if slot.start != start {
		*slot = shadowSlot{start: start}
	}
	slot.counts[id]++
	s.mu.Unlock()
	if ev.Result.Disagrees() {
		s.disagreements.add(Disagreement{
			Time: ev.Received, Command: ev.Command, App: ev.App, RequestID: ev.RequestID,
			TencentGot: ev.Primary, CandidateAnswered: ev.Candidate, Result: string(ev.Result),
			CandidateMs: float64(ev.Duration.Microseconds()) / 1000,
		})
	}
}

func (s *shadowRoute) snapshot(now int64) ShadowStats {
	var counts [shadowResultsCounted]int64
	oldest := now - int64(shadowWindow/time.Second)
	s.mu.Lock()
	for _, slot := range s.slots {
		if slot.start > oldest && slot.start <= now {
			for i, n := range slot.counts {
				counts[i] += int64(n)
			}
		}
	}
	s.mu.Unlock()
	st := ShadowStats{WindowSeconds: int64(shadowWindow / time.Second), Counts: map[string]int64{},
		Disagreements: s.disagreements.newestFirst()}
	for i, r := range shadow.Results {
		st.Counts[string(r)] = counts[i]
	}
	agree := st.Counts[string(shadow.Agree)]
	if both := agree + st.Counts[string(shadow.Verdict)] + st.Counts[string(shadow.Rewrite)]; both > 0 {
		rate := float64(agree) / float64(both)
		st.AgreementRate = &rate
	}
	return st
}
