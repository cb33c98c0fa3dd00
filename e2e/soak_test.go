//go:build soak

package e2e

import (
	"io"
	"net"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// The soak is opt-in: go test -tags soak -run TestSoak -timeout 30m -v ./e2e/
// CALLBACK_ROUTER_SOAK sets its length (default 10m). It runs the binary under steady
// traffic in front of an upstream that flaps — healthy, hung, failing, down — and asserts that
// every callback is answered inside Tencent's window and that the router's RSS and goroutines
// stay flat from the end of the warm-up to the end.
const (
	soakRate     = 200 // callbacks a second
	soakFlap     = 5 * time.Second
	soakEvery    = 7 * time.Second // not a divisor of the 20 s flap cycle, so samples see every mode
	soakWindow   = 2 * time.Second
	soakDeadline = 1500 * time.Millisecond
)

// flappingUpstream cycles through healthy, hung, 503 and down every soakFlap.
type flappingUpstream struct {
	addr  string
	mode  atomic.Int32
	mu    sync.Mutex
	ln    net.Listener
	srv   *http.Server
	close chan struct{}
}

var soakModes = []string{"healthy", "hung", "503", "down"}

func startFlapping(t *testing.T) *flappingUpstream {
	u := &flappingUpstream{close: make(chan struct{})}
	u.listen(t, "127.0.0.1:0")
	u.addr = u.ln.Addr().String()
	go func() {
		for i := 1; ; i++ {
			select {
			case <-u.close:
				return
			case <-time.After(soakFlap):
			}
			mode := int32(i % len(soakModes))
			u.mode.Store(mode)
			switch soakModes[mode] {
			case "down":
				u.mu.Lock()
				u.srv.Close()
				u.mu.Unlock()
			case "healthy":
				u.listen(t, u.addr)
			}
		}
	}()
	t.Cleanup(func() { close(u.close); u.mu.Lock(); u.srv.Close(); u.mu.Unlock() })
	return u
}

func (u *flappingUpstream) listen(t *testing.T, addr string) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Errorf("upstream listen %s: %v", addr, err)
		return
	}
	srv := &http.Server{Handler: http.HandlerFunc(u.serve)}
	u.mu.Lock()
	u.ln, u.srv = ln, srv
	u.mu.Unlock()
	go srv.Serve(ln)
}

func (u *flappingUpstream) serve(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	switch soakModes[u.mode.Load()] {
	case "hung":
		select {
		case <-r.Context().Done():
		case <-u.close:
		}
	case "503":
		w.WriteHeader(http.StatusServiceUnavailable)
	default:
		time.Sleep(2 * time.Millisecond)
		io.WriteString(w, slowAnswer)
	}
}

type soakSample struct {
	at         time.Duration
	rssKiB     int
	goroutines int
	sent       int64
}

func TestSoak(t *testing.T) {
	length := 10 * time.Minute
	if s := os.Getenv("CALLBACK_ROUTER_SOAK"); s != "" {
		d, err := time.ParseDuration(s)
		if err != nil {
			t.Fatalf("CALLBACK_ROUTER_SOAK: %v", err)
		}
		length = d
	}
	up := startFlapping(t)
	r := start(t, newConfig(t).SetYAML("defaults.breaker", "{consecutive_failures: 5, open_for: 2s, half_open_requests: 1}").
		Upstream("gifts", "http://"+up.addr+"/gifts").
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: `+soakDeadline.String()+`, fallback: `+giftDeny+`}`))

	url := "http://" + r.addr + unsigned(giftCommand)
	var sent, late, failed atomic.Int64
	var worst atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	const senders = 64 // enough to keep soakRate going while callbacks of a hung upstream wait out the deadline
	tick := time.NewTicker(time.Second / soakRate)
	defer tick.Stop()
	work := make(chan struct{})
	for range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
			defer client.CloseIdleConnections()
			for range work {
				start := time.Now()
				resp, err := client.Post(url, "application/json", strings.NewReader(giftBody))
				elapsed := time.Since(start)
				sent.Add(1)
				if err != nil {
					failed.Add(1)
					continue
				}
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || (string(b) != slowAnswer && resp.Header.Get("X-Callback-Fallback") == "") {
					failed.Add(1)
				}
				if elapsed > soakWindow {
					late.Add(1)
				}
				for w := worst.Load(); int64(elapsed) > w && !worst.CompareAndSwap(w, int64(elapsed)); w = worst.Load() {
				}
			}
		}()
	}
	go func() {
		defer close(work)
		for {
			select {
			case <-stop:
				return
			case <-tick.C:
				select {
				case work <- struct{}{}:
				default: // every sender busy: counted as not sent, the rate drops
				}
			}
		}
	}()

	var samples []soakSample
	began := time.Now()
	for time.Since(began) < length {
		time.Sleep(soakEvery)
		s := soakSample{at: time.Since(began).Round(time.Second), rssKiB: testutil.ResidentKiB(r.Pid), goroutines: int(r.metric(t, "go_goroutines")), sent: sent.Load()}
		if s.rssKiB == 0 || s.goroutines < 0 {
			t.Fatalf("the router is gone at %s", s.at)
		}
		samples = append(samples, s)
		t.Logf("%6s  RSS %6d KiB  goroutines %4d  callbacks %7d  upstream %s", s.at, s.rssKiB, s.goroutines, s.sent, soakModes[up.mode.Load()])
	}
	close(stop)
	wg.Wait()

	t.Logf("callbacks %d, failed %d, later than the %s window %d, slowest %s",
		sent.Load(), failed.Load(), soakWindow, late.Load(), time.Duration(worst.Load()).Round(time.Millisecond))
	if failed.Load() != 0 || late.Load() != 0 {
		t.Errorf("%d callbacks failed and %d were later than the window, want 0 and 0", failed.Load(), late.Load())
	}
	if len(samples) < 4 {
		t.Fatalf("only %d samples: run the soak for at least 30s", len(samples))
	}
	// Flat: compare the second half's peak with the peak of the first quarter after warm-up
	// (one full flap cycle), with room for the garbage collector's pacing.
	warm := samples[len(samples)/4:]
	firstHalf, secondHalf := warm[:len(warm)/2], warm[len(warm)/2:]
	peak := func(s []soakSample, f func(soakSample) int) int {
		return slices.Max(func() []int {
			var v []int
			for _, x := range s {
				v = append(v, f(x))
			}
			return v
		}())
	}
	rss1, rss2 := peak(firstHalf, func(s soakSample) int { return s.rssKiB }), peak(secondHalf, func(s soakSample) int { return s.rssKiB })
	g1, g2 := peak(firstHalf, func(s soakSample) int { return s.goroutines }), peak(secondHalf, func(s soakSample) int { return s.goroutines })
	t.Logf("peak RSS %d KiB then %d KiB; peak goroutines %d then %d", rss1, rss2, g1, g2)
	if rss2 > rss1+rss1/5+8<<10 {
		t.Errorf("RSS grew from a peak of %d KiB to %d KiB", rss1, rss2)
	}
	if g2 > g1+g1/5+50 {
		t.Errorf("goroutines grew from a peak of %d to %d", g1, g2)
	}
}
