package e2e

import (
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
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
	config := func(addr string) string {
		return writeFile(t, "config.yaml", fmt.Sprintf(`
server: {listen: %q, admin_listen: ""}
tencent: {sdk_app_ids: [1400000001]}
defaults:
  breaker: {consecutive_failures: 100, open_for: 1s, half_open_requests: 1}
upstreams:
  audit: {url: %q}
routes:
  - commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
  - commands: ["*"]
delivery:
  backend: jetstream
  workers: 8
  attempt_deadline: 1s
  backoff: {initial: 20ms, max: 200ms}
  jetstream: {url: %q}
`, addr, audit.URL, natsURL))
	}
	addrs := [2]string{freeAddr(t), freeAddr(t)}
	routers := [2]*routerProcess{startProcess(t, config(addrs[0]), addrs[0]), startProcess(t, config(addrs[1]), addrs[1])}

	const senders, perSender, killAfter = 8, 75, 300
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: senders}}
	var sent atomic.Int64
	var killed sync.Once
	var ackedAtKill int
	var wg sync.WaitGroup
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range perSender {
				if sent.Add(1) == killAfter {
					killed.Do(func() {
						routers[0].kill()
						ledger.mu.Lock()
						ackedAtKill = len(ledger.acked)
						ledger.mu.Unlock()
					})
				}
				ledger.send(client, addrs[i%2], fmt.Sprint("s", s), i)
			}
		}()
	}
	wg.Wait()
	<-routers[0].exited
	ledger.mu.Lock()
	acked := len(ledger.acked)
	ledger.mu.Unlock()
	t.Logf("sent %d to two instances, acknowledged %d (%d when one was killed)", senders*perSender, acked, ackedAtKill)
	if want := senders*perSender/2 + killAfter/4; acked < want {
		t.Fatalf("only %d acknowledged; want at least %d (the survivor's half and part of the killed one's)", acked, want)
	}
	deadline := time.Now().Add(90 * time.Second)
	for len(ledger.missing()) > 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if m := ledger.missing(); len(m) > 0 {
		t.Fatalf("%d acknowledged callbacks never delivered, e.g. %v; survivor's output:\n%s", len(m), m[:min(5, len(m))], routers[1].logs)
	}
	t.Logf("all %d acknowledged callbacks delivered by the surviving instance", acked)
}
