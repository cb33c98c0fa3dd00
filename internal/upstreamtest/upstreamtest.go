// Package upstreamtest runs real loopback upstreams that misbehave on demand — slow, hung,
// failing N times, refusing or resetting connections, answering HTML or JSON without an
// ErrorCode — and records exactly what the router sent them; and raw TCP upstreams (Raw,
// EachRequest) for what net/http would not do: answers cut mid-body, pipelined requests,
// connections held open. Tests of every package use it instead of mocks of net/http.
package upstreamtest

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/testutil"
)

// AllowBody is the envelope a healthy upstream answers.
const AllowBody = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`

// AllowResponse is AllowBody as a whole HTTP/1.1 response, for Raw upstreams to write.
var AllowResponse = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: " +
	strconv.Itoa(len(AllowBody)) + "\r\n\r\n" + AllowBody

// Request is what the upstream received.
type Request struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	At       time.Time
}

// Upstream is a loopback HTTP server whose answer is chosen per request by Behave.
type Upstream struct {
	*httptest.Server
	mu       sync.Mutex
	requests []Request
	hits     atomic.Int64
	behave   atomic.Pointer[Behavior]
	release  chan struct{} // closed at Close, so hung handlers return
}

// Behavior answers request n (1-based) of the upstream.
type Behavior func(w http.ResponseWriter, r *http.Request, n int64)

// Start runs an upstream with behaviour b until the test ends.
func Start(t testing.TB, b Behavior) *Upstream {
	t.Helper()
	u := &Upstream{release: make(chan struct{})}
	u.behave.Store(&b)
	u.Server = httptest.NewUnstartedServer(http.HandlerFunc(u.serve))
	u.Server.Config.ErrorLog = nil
	u.Start()
	t.Cleanup(u.Close)
	return u
}

// Close releases hung handlers and stops the server.
func (u *Upstream) Close() {
	select {
	case <-u.release:
	default:
		close(u.release)
	}
	u.Server.CloseClientConnections()
	u.Server.Close()
}

// Set changes the behaviour for the requests that follow.
func (u *Upstream) Set(b Behavior) { u.behave.Store(&b) }

func (u *Upstream) serve(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	n := u.hits.Add(1)
	u.mu.Lock()
	u.requests = append(u.requests, Request{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery,
		Header: r.Header.Clone(), Body: body, At: time.Now()})
	u.mu.Unlock()
	(*u.behave.Load())(w, r, n)
}

// Hits counts the requests received.
func (u *Upstream) Hits() int64 { return u.hits.Load() }

// Requests returns a copy of what was received, in order.
func (u *Upstream) Requests() []Request {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]Request(nil), u.requests...)
}

// Answer always answers status with body.
func Answer(status int, body string) Behavior {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		io.WriteString(w, body)
	}
}

// OK answers the allow envelope.
func OK() Behavior { return Answer(http.StatusOK, AllowBody) }

// FailFirst answers status to the first n requests, then behaves as next.
func FailFirst(n int64, status int, next Behavior) Behavior {
	return func(w http.ResponseWriter, r *http.Request, i int64) {
		if i <= n {
			w.WriteHeader(status)
			io.WriteString(w, `{"error":"failing on purpose"}`)
			return
		}
		next(w, r, i)
	}
}

// Slow waits d (or until the request is cancelled) and then behaves as next.
func Slow(d time.Duration, next Behavior) Behavior {
	return func(w http.ResponseWriter, r *http.Request, i int64) {
		select {
		case <-time.After(d):
			next(w, r, i)
		case <-r.Context().Done():
		}
	}
}

// Hang never answers: it waits until the router gives up on the request or the upstream closes.
func (u *Upstream) Hang() Behavior {
	return func(_ http.ResponseWriter, r *http.Request, _ int64) {
		select {
		case <-r.Context().Done():
		case <-u.release:
		}
	}
}

// Reset accepts the request and resets the connection (RST, not FIN) without answering.
func Reset() Behavior {
	return func(w http.ResponseWriter, _ *http.Request, _ int64) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		if tc, ok := conn.(*net.TCPConn); ok {
			tc.SetLinger(0)
		}
		conn.Close()
	}
}

// DeadAddr returns a loopback address where nothing listens: bound, then closed, so a dial
// gets a sure ECONNREFUSED.
func DeadAddr(t testing.TB) string {
	t.Helper()
	return testutil.FreeAddr(t)
}

// Unreachable lists the ways a connection to an upstream fails before any answer, each
// with a function returning such an address (host:port): nothing listens there, or the
// connection is reset once the request is sent.
var Unreachable = []struct {
	Name string
	Addr func(t testing.TB) string
}{
	{"connection refused", DeadAddr},
	{"connection reset", func(t testing.TB) string { return strings.TrimPrefix(Start(t, Reset()).URL, "http://") }},
}

// Raw accepts TCP connections on a loopback address and serves each on its own goroutine
// with serve, which speaks HTTP, or not, as it likes; the connection is closed when serve
// returns. It returns the address. When the test ends the listener and every connection
// are closed and Raw waits for serve to return.
func Raw(t testing.TB, serve func(net.Conn)) string {
	t.Helper()
	var wg sync.WaitGroup
	t.Cleanup(wg.Wait) // after Accept's cleanup has closed the connections
	return Accept(t, func(c net.Conn) {
		wg.Add(1)
		go func() { defer wg.Done(); serve(c); c.Close() }()
	})
}

// Accept accepts TCP connections on a loopback address and hands each to handle on the
// accepting goroutine, which must not block: a test that measures goroutines or memory
// decides itself whether a connection gets one. It returns the address. When the test ends
// the listener and every connection are closed.
func Accept(t testing.TB, handle func(net.Conn)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var conns []net.Conn
	accepting := make(chan struct{})
	go func() {
		defer close(accepting)
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			mu.Lock()
			conns = append(conns, c)
			mu.Unlock()
			handle(c)
		}
	}()
	t.Cleanup(func() {
		ln.Close()
		<-accepting
		mu.Lock()
		defer mu.Unlock()
		for _, c := range conns {
			c.Close()
		}
	})
	return ln.Addr().String()
}

// EachRequest reads the requests c carries one after another, each body drained, and calls
// answer with each until c fails or closes: a Raw upstream that keeps its connections alive.
func EachRequest(c net.Conn, answer func(*http.Request)) {
	br := bufio.NewReader(c)
	for {
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		io.Copy(io.Discard, req.Body)
		answer(req)
	}
}

// ReadRequest reads one request, head and body, from c, so that what a Raw upstream writes
// next follows a whole request. It reports whether a request came.
func ReadRequest(c net.Conn) bool {
	req, err := http.ReadRequest(bufio.NewReader(c))
	if err != nil {
		return false
	}
	io.Copy(io.Discard, req.Body)
	return true
}
