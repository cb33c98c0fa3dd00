package server_test

import (
	"fmt"
	"io"
	"net"
	"os"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// attack runs against the router at addr until stop is closed.
type attack func(t *testing.T, addr string, stop <-chan struct{})

// TestResponsiveUnderAttack measures real callbacks while hostile clients hold or flood the
// router: each attack runs beside 300 sequential callbacks, which must all be answered by
// the upstream, with the p50 and p99 latencies logged against an unattacked baseline.
func TestResponsiveUnderAttack(t *testing.T) {
	attacks := []struct {
		name string
		run  attack
	}{
		{"baseline (no attack)", nil},
		{"2000 idle connections", idleConnections(2000)},
		{"200 slow-loris clients", slowLoris(200)},
		{"8 floods of pipelined garbage", flood(8, "GET / HTTP/1.1\r\nHost: x\r\n\r\n\x00\x01garbage\r\n\r\n")},
		{"8 floods of oversized headers", flood(8, "POST / HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 16<<10)+"\r\n\r\n")},
		{"8 floods of deeply nested bodies", flood(8, deepRequest())},
	}
	for _, engine := range []string{"fasthttp", "net/http"} {
		t.Run(engine, func(t *testing.T) {
			for _, a := range attacks {
				t.Run(a.name, func(t *testing.T) {
					up := upstreamtest.Start(t, upstreamtest.OK())
					r := startRouter(t, configWith("server: {engine: "+engine+", "+hostileServer+"}\ntencent: {sdk_app_ids: [1400000001]}", giftCommand, up.URL, ""))
					gBefore, rssBefore := runtime.NumGoroutine(), testutil.ResidentKiB(os.Getpid())
					stop := make(chan struct{})
					var wg sync.WaitGroup
					if a.run != nil {
						wg.Add(1)
						go func() { defer wg.Done(); a.run(t, hostPort(r.URL), stop) }()
						time.Sleep(300 * time.Millisecond) // let the attack build up
					}
					var lat []time.Duration
					for range 300 {
						ans := r.post(t, giftCommand, giftBody)
						if ans.Status != 200 || ans.Fallback != "" {
							t.Errorf("callback under attack got %d fallback %q", ans.Status, ans.Fallback)
						}
						lat = append(lat, ans.Elapsed)
					}
					gUnder, rssUnder := runtime.NumGoroutine(), testutil.ResidentKiB(os.Getpid())
					close(stop)
					wg.Wait()
					slices.Sort(lat)
					t.Logf("300 of 300 callbacks answered by the upstream; p50 %s p99 %s max %s; goroutines %d before, %d under attack; RSS %d KiB before, %d KiB under attack (test process, attackers included)",
						pctMicro(lat, 50), pctMicro(lat, 99), lat[len(lat)-1].Round(time.Microsecond), gBefore, gUnder, rssBefore, rssUnder)
					if p99 := lat[len(lat)*99/100]; p99 > time.Second {
						t.Errorf("p99 %s under attack, want well under Tencent's 2 s window", p99)
					}
				})
			}
		})
	}
}

func pctMicro(sorted []time.Duration, p int) time.Duration {
	return sorted[min(len(sorted)-1, len(sorted)*p/100)].Round(time.Microsecond)
}

// deepRequest is a signed-less callback whose body nests a thousand arrays deep.
func deepRequest() string {
	body := `{"CallbackCommand":"Live.CallbackBeforeSendGift","X":` + strings.Repeat("[", 1000) + strings.Repeat("]", 1000) + `}`
	return fmt.Sprintf("POST /?SdkAppid=1400000001 HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s", len(body), body)
}

// idleConnections opens n connections and holds them without sending a byte.
func idleConnections(n int) attack {
	return func(t *testing.T, addr string, stop <-chan struct{}) {
		var conns []net.Conn
		for range n {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Errorf("idle connection %d: %v", len(conns), err)
				break
			}
			conns = append(conns, c)
		}
		<-stop
		for _, c := range conns {
			c.Close()
		}
	}
}

// slowLoris keeps n connections sending a header byte every 100 ms, reconnecting each one
// the router cuts.
func slowLoris(n int) attack {
	return func(t *testing.T, addr string, stop <-chan struct{}) {
		together(n, func() {
			for {
				c, err := net.Dial("tcp", addr)
				if err != nil {
					return
				}
				io.WriteString(c, "POST / HTTP/1.1\r\nHost: x\r\n")
				for {
					select {
					case <-stop:
						c.Close()
						return
					case <-time.After(100 * time.Millisecond):
					}
					if _, err := io.WriteString(c, "X"); err != nil {
						break
					}
				}
				c.Close()
			}
		})
	}
}

// flood has n clients send req over and over, each on a new connection, reading whatever
// comes back.
func flood(n int, req string) attack {
	return func(t *testing.T, addr string, stop <-chan struct{}) {
		together(n, func() {
			for {
				select {
				case <-stop:
					return
				default:
				}
				c, err := net.Dial("tcp", addr)
				if err != nil {
					continue
				}
				c.SetDeadline(time.Now().Add(2 * time.Second))
				io.WriteString(c, req)
				io.Copy(io.Discard, c)
				c.Close()
			}
		})
	}
}

// together runs f on n goroutines and returns once every one has returned.
func together(n int, f func()) {
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() { defer wg.Done(); f() }()
	}
	wg.Wait()
}
