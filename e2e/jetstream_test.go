package e2e

import (
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/natstest"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// TestJetStreamTwoInstancesOneKilled runs two router processes behind "one callback URL"
// (the senders alternate between them) sharing a JetStream queue on an in-process NATS
// server, with a flaky upstream. One instance is SIGKILLed mid-stream and not restarted:
// every callback either instance acknowledged must still be delivered, by the survivor.
func TestJetStreamTwoInstancesOneKilled(t *testing.T) {
	if testing.Short() {
		t.Skip("runs two router processes and a NATS server")
	}
	natsURL := natstest.Start(t)
	ledger := newAckLedger()
	audit := upstreamtest.Start(t, ledger.flakyAuditor(0.3))
	instance := func() *router {
		return start(t, killConfig(t).Upstream("audit", audit.URL).
			Route(`{commands: ["Live.CallbackAfter*"], upstream: audit, async: true}`).Route(catchAll).
			SetYAML("delivery", `{backend: jetstream, workers: 8, attempt_deadline: 1s, backoff: `+fastBackoff+`}`).
			Set("delivery.jetstream.url", natsURL))
	}
	routers := [2]*router{instance(), instance()}
	ackedAtKill, _ := ledger.sendKilling(func(i int) string { return routers[i%2].addr }, func() { routers[0].Kill() })
	<-routers[0].Exited()
	acked, _ := ledger.counts()
	t.Logf("sent %d to two instances, acknowledged %d (%d when one was killed)", senders*perSender, acked, ackedAtKill)
	if want := senders*perSender/2 + killAfter/4; acked < want {
		t.Fatalf("only %d acknowledged; want at least %d (the survivor's half and part of the killed one's)", acked, want)
	}
	ledger.waitDelivered(t, 90*time.Second)
	t.Logf("all %d acknowledged callbacks delivered by the surviving instance", acked)
}
