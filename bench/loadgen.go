//go:build linux

package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"slices"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// The Go load generator: raw HTTP/1.1 over keep-alive connections, one prebuilt request, every
// answer checked. It drives scenario 2 (open loop at a fixed rate), scenario 3 (2,000
// concurrent callbacks to a hung upstream), the sanity samples, and scenarios 1 and 4 when wrk
// is not installed (closed loop).

// What Tencent sends and what comes back.
const (
	callbackQuery = "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android"
	// giftBody is also in bench/wrk/post.lua.
	giftBody      = `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"viewer_mia","RoomId":"live_anchor_lily_0601","GiftWater":{"From_Account":"viewer_mia","To_Account":["anchor_lily"],"Time":1717236000,"GiftId":"rocket","Count":2,"Coins":1000}}`
	allowEnvelope = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
	denyEnvelope  = `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`
	// fallbackHeader names the fallback reason on the router's and nginx's fallbacks.
	fallbackHeader = "X-Callback-Fallback"
)

// Limits that keep every loop bounded.
const (
	requestTimeout   = 5 * time.Second // one callback, answer included (wrk: --timeout 5s)
	maxSamples       = 20_000_000      // latency samples kept per run, all connections together
	maxAnswerBytes   = 1 << 20
	hangAnswerMargin = 5 * time.Second        // a hung callback not answered by deadline+this is an error
	hangQuietMargin  = 500 * time.Millisecond // scenario 3 reads no answer before deadline+this
)

// callbackURL is the URL a load generator posts to.
func callbackURL(addr, path string) string {
	return "http://" + addr + path + "?" + callbackQuery
}

// buildRequest is the raw request the Go generator sends, as wrk sends it.
func buildRequest(addr, path string) []byte {
	return []byte("POST " + path + "?" + callbackQuery + " HTTP/1.1\r\n" +
		"Host: " + addr + "\r\n" +
		"Content-Type: application/json\r\n" +
		"Content-Length: " + strconv.Itoa(len(giftBody)) + "\r\n" +
		"\r\n" + giftBody)
}

// expectation is the answer a scenario must get.
type expectation struct {
	fallback string // "" = the upstream's answer (no fallback header); "*" = any reason; else that reason
	body     string
}

var (
	expectUpstream = expectation{body: allowEnvelope}
	expectFallback = expectation{fallback: "*", body: denyEnvelope}
)

// answer is one response.
type answer struct {
	status   int
	fallback string
	body     []byte
}

// check returns "" when a matches e, else what is wrong.
func (e expectation) check(a answer) string {
	switch {
	case a.status != http.StatusOK:
		return fmt.Sprintf("status %d (body %.80q)", a.status, a.body)
	case e.fallback == "" && a.fallback != "":
		return fmt.Sprintf("a fallback (%s: %s) instead of the upstream's answer", fallbackHeader, a.fallback)
	case e.fallback == "*" && a.fallback == "":
		return fmt.Sprintf("no %s header on what should be a fallback (body %.80q)", fallbackHeader, a.body)
	case e.fallback != "" && e.fallback != "*" && a.fallback != e.fallback:
		return fmt.Sprintf("%s: %q, want %q", fallbackHeader, a.fallback, e.fallback)
	case string(a.body) != e.body:
		return fmt.Sprintf("body %.120q, want %q", a.body, e.body)
	}
	return ""
}

// client is one keep-alive connection sending one prebuilt request.
type client struct {
	addr string
	req  []byte
	c    net.Conn
	rd   stampedReader
	br   *bufio.Reader
	body bytes.Buffer
}

func newClient(addr, path string) *client {
	return &client{addr: addr, req: buildRequest(addr, path)}
}

func (c *client) dial(timeout time.Duration) error {
	conn, err := net.DialTimeout("tcp", c.addr, timeout)
	if err != nil {
		return err
	}
	c.c = conn
	c.rd = newStampedReader(conn)
	if c.br == nil {
		c.br = bufio.NewReaderSize(&c.rd, 4096)
	} else {
		c.br.Reset(&c.rd)
	}
	return nil
}

func (c *client) close() {
	if c.c != nil {
		c.c.Close()
		c.c = nil
	}
}

// roundTrip sends the request and reads the answer by deadline, dialling first when needed.
// It returns when the request was written and when the answer arrived: the kernel's receive
// time of its first bytes where the socket gives it (SO_TIMESTAMPNS), so that the
// generator's own scheduling delays — 2,000 goroutines waking at once on two busy cores — are
// not counted as the server's latency. The answer's body is valid until the next call.
func (c *client) roundTrip(deadline time.Time) (a answer, sent, answered time.Time, err error) {
	if sent, err = c.send(deadline); err != nil {
		return answer{}, sent, answered, err
	}
	a, answered, err = c.receive(sent)
	return a, sent, answered, err
}

// send writes the request, dialling first when needed; the deadline covers the answer too.
func (c *client) send(deadline time.Time) (sent time.Time, err error) {
	if c.c == nil {
		if err := c.dial(time.Until(deadline)); err != nil {
			return time.Now(), err
		}
	}
	_ = c.c.SetDeadline(deadline)
	c.rd.first = time.Time{}
	sent = time.Now()
	if _, err := c.c.Write(c.req); err != nil {
		c.close()
		return sent, err
	}
	return sent, nil
}

// receive reads the answer to the request sent at sent.
func (c *client) receive(sent time.Time) (a answer, answered time.Time, err error) {
	resp, err := http.ReadResponse(c.br, nil)
	if err != nil {
		c.close()
		return answer{}, time.Now(), err
	}
	c.body.Reset()
	_, err = c.body.ReadFrom(io.LimitReader(resp.Body, maxAnswerBytes))
	resp.Body.Close()
	answered = c.rd.first
	if answered.IsZero() || answered.Before(sent) {
		answered = time.Now()
	}
	if err != nil {
		c.close()
		return answer{}, answered, err
	}
	if resp.Close {
		c.close()
	}
	return answer{status: resp.StatusCode, fallback: resp.Header.Get(fallbackHeader), body: c.body.Bytes()}, answered, nil
}

// stampedReader reads a TCP connection with recvmsg and remembers the kernel's receive
// timestamp of the first bytes read since first was cleared. Without timestamps (not TCP, or
// the option refused) it reads plainly and first stays zero.
type stampedReader struct {
	conn net.Conn
	rc   syscall.RawConn
	oob  []byte
	// first is the kernel's receive time of the first bytes read since it was cleared.
	first time.Time
}

func newStampedReader(conn net.Conn) stampedReader {
	r := stampedReader{conn: conn}
	tc, ok := conn.(*net.TCPConn)
	if !ok {
		return r
	}
	rc, err := tc.SyscallConn()
	if err != nil {
		return r
	}
	var serr error
	if err := rc.Control(func(fd uintptr) {
		serr = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_TIMESTAMPNS, 1)
	}); err != nil || serr != nil {
		return r
	}
	r.rc, r.oob = rc, make([]byte, syscall.CmsgSpace(16))
	return r
}

func (r *stampedReader) Read(p []byte) (int, error) {
	if r.rc == nil {
		return r.conn.Read(p)
	}
	var n, oobn int
	var rerr error
	// RawConn.Read waits for readability under the connection's deadline.
	err := r.rc.Read(func(fd uintptr) bool {
		for range 100 {
			n, oobn, _, _, rerr = syscall.Recvmsg(int(fd), p, r.oob, 0)
			if rerr != syscall.EINTR {
				break
			}
		}
		return rerr != syscall.EAGAIN
	})
	if err != nil {
		return 0, err
	}
	if rerr != nil {
		return 0, rerr
	}
	if n == 0 {
		return 0, io.EOF
	}
	if r.first.IsZero() {
		r.first = parseRxTimestamp(r.oob[:oobn])
	}
	return n, nil
}

// parseRxTimestamp returns the SCM_TIMESTAMPNS time in a control message, or zero.
func parseRxTimestamp(oob []byte) time.Time {
	msgs, err := syscall.ParseSocketControlMessage(oob)
	if err != nil {
		return time.Time{}
	}
	for _, m := range msgs {
		if m.Header.Level != syscall.SOL_SOCKET || m.Header.Type != syscall.SCM_TIMESTAMPNS {
			continue
		}
		switch len(m.Data) { // struct timespec: two longs
		case 16:
			return time.Unix(int64(binary.NativeEndian.Uint64(m.Data)), int64(binary.NativeEndian.Uint64(m.Data[8:])))
		case 8:
			return time.Unix(int64(int32(binary.NativeEndian.Uint32(m.Data))), int64(int32(binary.NativeEndian.Uint32(m.Data[4:]))))
		}
	}
	return time.Time{}
}

// loadResult is one measured run of a load generator (wrk or Go).
type loadResult struct {
	Requests     int64 // answered
	Elapsed      time.Duration
	P50, P99     time.Duration
	P999, Max    time.Duration
	SocketErrors int64 // connect, read, write, timeout
	StatusErrors int64 // non-200 answers
	WrongAnswers int64 // 200 but not the expected answer (Go generator only)
	FirstProblem string
	OfferedRate  float64 // open loop only
	Queued       int64   // open loop: callbacks whose connection was still busy at their scheduled time
}

func (r loadResult) errors() int64 { return r.SocketErrors + r.StatusErrors + r.WrongAnswers }

func (r loadResult) rate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Requests) / r.Elapsed.Seconds()
}

// percentile returns the p-th percentile (0 < p ≤ 100) of sorted samples, nearest rank: the
// smallest sample with at least p% of the samples at or below it.
func percentile(sorted []time.Duration, p float64) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	// The epsilon keeps 99.9% of 1000 at rank 999 despite 0.999*1000 = 999.0000000000001.
	rank := int(math.Ceil(p/100*float64(n) - 1e-9))
	rank = min(max(rank, 1), n)
	return sorted[rank-1]
}

// worker accumulates one connection's results.
type worker struct {
	lat                           []time.Duration
	socket, status, wrong, queued int64
	first                         string
}

func (w *worker) record(exp expectation, a answer, err error, lat time.Duration) {
	if err != nil {
		w.socket++
		if w.first == "" {
			w.first = err.Error()
		}
		return
	}
	w.lat = append(w.lat, lat) // callers bound the number of calls
	if bad := exp.check(a); bad != "" {
		if a.status != http.StatusOK {
			w.status++
		} else {
			w.wrong++
		}
		if w.first == "" {
			w.first = bad
		}
	}
}

// merge sums the workers into a result with percentiles.
func merge(ws []*worker, elapsed time.Duration) loadResult {
	r := loadResult{Elapsed: elapsed}
	var all []time.Duration
	for _, w := range ws {
		all = append(all, w.lat...)
		r.SocketErrors += w.socket
		r.StatusErrors += w.status
		r.WrongAnswers += w.wrong
		r.Queued += w.queued
		if r.FirstProblem == "" {
			r.FirstProblem = w.first
		}
	}
	slices.Sort(all)
	r.Requests = int64(len(all))
	r.P50, r.P99, r.P999 = percentile(all, 50), percentile(all, 99), percentile(all, 99.9)
	if len(all) > 0 {
		r.Max = all[len(all)-1]
	}
	return r
}

// closedLoop keeps conns connections busy for dur, each sending the next callback as soon as
// the previous is answered (what wrk does); used when wrk is not installed.
func closedLoop(ctx context.Context, addr, path string, conns int, dur time.Duration, exp expectation) loadResult {
	ws := make([]*worker, conns)
	start := time.Now()
	end := start.Add(dur)
	var wg sync.WaitGroup
	for i := range ws {
		w := &worker{lat: make([]time.Duration, 0, min(maxSamples/conns, 1<<16))}
		ws[i] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := newClient(addr, path)
			defer c.close()
			for n := 0; n < maxSamples/conns && ctx.Err() == nil; n++ {
				if !time.Now().Before(end) {
					return
				}
				a, sent, answered, err := c.roundTrip(time.Now().Add(requestTimeout))
				w.record(exp, a, err, answered.Sub(sent))
				if err != nil && c.c == nil {
					time.Sleep(5 * time.Millisecond) // the server is gone or refusing: no busy loop
				}
			}
		}()
	}
	wg.Wait()
	return merge(ws, time.Since(start))
}

// fixedRate sends rate callbacks per second for dur over conns connections, open loop: each
// connection has its own schedule (rate/conns per second, phases spread evenly, as wrk2
// does). A callback whose connection is still busy at its scheduled time (the previous answer
// is late) is charged from its scheduled time, so a stall is not hidden by the sends it delays
// (coordinated omission); one sent late only because the generator's timer woke late (Go's
// timers have about 1 ms resolution) is charged from when it was sent.
func fixedRate(ctx context.Context, addr, path string, rate float64, conns int, dur time.Duration, exp expectation) loadResult {
	total := int(rate * dur.Seconds())
	interval := time.Duration(float64(time.Second) / rate)
	clients := make([]*client, conns)
	for i := range clients {
		clients[i] = newClient(addr, path)
		_ = clients[i].dial(time.Second) // a failure is retried (and counted) by the first send
	}
	ws := make([]*worker, conns)
	start := time.Now().Add(20 * time.Millisecond) // every goroutine ready before the first send
	var wg sync.WaitGroup
	for k := range ws {
		w := &worker{lat: make([]time.Duration, 0, total/conns+1)}
		ws[k] = w
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := clients[k]
			defer c.close()
			free := start // when the connection was last free
			for i := k; i < total && ctx.Err() == nil; i += conns {
				sched := start.Add(time.Duration(i) * interval)
				if d := time.Until(sched); d > 0 {
					time.Sleep(d)
				}
				a, sent, answered, err := c.roundTrip(time.Now().Add(requestTimeout))
				from := sent
				if free.After(sched) {
					from = sched
					w.queued++
				}
				w.record(exp, a, err, answered.Sub(from))
				free = time.Now()
			}
		}()
	}
	wg.Wait()
	r := merge(ws, time.Since(start))
	r.OfferedRate = rate
	return r
}

// sample sends n callbacks one after the other on one connection and checks every answer. It
// returns how many were wrong (errors included) and the first problem.
func sample(ctx context.Context, addr, path string, n int, exp expectation) (int, string) {
	c := newClient(addr, path)
	defer c.close()
	bad, first := 0, ""
	for i := 0; i < n && ctx.Err() == nil; i++ {
		a, _, _, err := c.roundTrip(time.Now().Add(requestTimeout))
		problem := ""
		if err != nil {
			problem = err.Error()
		} else {
			problem = exp.check(a)
		}
		if problem != "" {
			bad++
			if first == "" {
				first = problem
			}
		}
	}
	return bad, first
}

// hangResult is scenario 3's measurement of one target.
type hangResult struct {
	Sent, Answered int
	Wrong, Errors  int // answered but not the fallback; not answered (or a socket error)
	Reasons        map[string]int
	First          string
	Elapsed        []time.Duration // send to answer, sorted, answered only
}

// dialAll opens n connections to addr, at most parallel at a time (a burst of 2,000 SYNs would
// overflow accept queues and cost SYN retransmits, which is not what scenario 3 measures).
func dialAll(ctx context.Context, addr, path string, n, parallel int) ([]*client, error) {
	clients := make([]*client, n)
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	var mu sync.Mutex
	var firstErr error
	for i := range clients {
		clients[i] = newClient(addr, path)
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			if ctx.Err() != nil {
				return
			}
			if err := clients[i].dial(3 * time.Second); err != nil {
				mu.Lock()
				if firstErr == nil {
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if firstErr == nil && ctx.Err() != nil {
		firstErr = ctx.Err()
	}
	if firstErr != nil {
		for _, c := range clients {
			c.close()
		}
		return nil, fmt.Errorf("dialling %d connections to %s: %w", n, addr, firstErr)
	}
	return clients, nil
}

// hang sends one callback on each connection at once and waits for every answer (at most
// deadline + hangAnswerMargin), then closes the connections. It reads nothing until the
// deadline has passed by hangQuietMargin: the kernel timestamps each answer on arrival, so the
// generator can stay idle while answers arrive instead of competing for the CPU with the
// proxy that is sending them.
func hang(clients []*client, deadline time.Duration, exp expectation) hangResult {
	r := hangResult{Sent: len(clients), Reasons: map[string]int{}}
	type outcome struct {
		elapsed  time.Duration
		fallback string
		problem  string
		err      error
	}
	outs := make([]outcome, len(clients))
	fire := make(chan struct{})
	var fired time.Time // written before fire is closed
	var wg sync.WaitGroup
	for i, c := range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			defer c.close()
			<-fire
			o := &outs[i]
			sent, err := c.send(time.Now().Add(deadline + hangAnswerMargin))
			if err != nil {
				o.err = err
				return
			}
			time.Sleep(time.Until(fired.Add(deadline + hangQuietMargin)))
			a, answered, err := c.receive(sent)
			o.elapsed, o.err = answered.Sub(sent), err
			if err == nil {
				o.fallback, o.problem = a.fallback, exp.check(a)
			}
		}()
	}
	fired = time.Now()
	close(fire)
	wg.Wait()
	for _, o := range outs {
		switch {
		case o.err != nil:
			r.Errors++
			if r.First == "" {
				r.First = o.err.Error()
			}
			continue
		case o.problem != "":
			r.Wrong++
			if r.First == "" {
				r.First = o.problem
			}
		}
		r.Answered++
		r.Reasons[o.fallback]++
		r.Elapsed = append(r.Elapsed, o.elapsed)
	}
	slices.Sort(r.Elapsed)
	return r
}
