package server

import (
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/rs/zerolog"
)

// Refusal answers of the connection limits. They are written straight onto the connection,
// before any request is read, so they are whole HTTP/1.1 responses that close it.
var (
	refuseTooManyConns = newConnRefusal(http.StatusServiceUnavailable, "too_many_connections", "the router holds server.max_conns open connections")
	refuseTooManyPerIP = newConnRefusal(http.StatusTooManyRequests, "too_many_connections_per_ip", "this address holds server.max_conns_per_ip open connections")
	refuseSource       = newConnRefusal(http.StatusForbidden, errSource.Code, errSource.Msg)
)

// connRefusal is a refusal of the connection limits: its code, for metrics, and the whole
// answer written on the connection.
type connRefusal struct {
	status int
	code   string
	answer []byte
}

func newConnRefusal(status int, code, msg string) *connRefusal {
	body := reject(status, code, msg, nil).body("")
	answer := "HTTP/1.1 " + strconv.Itoa(status) + " " + http.StatusText(status) +
		"\r\nContent-Type: application/json; charset=utf-8\r\nConnection: close\r\nRetry-After: 1\r\n" +
		"Content-Length: " + strconv.Itoa(len(body)) + "\r\n\r\n" + string(body)
	return &connRefusal{status: status, code: code, answer: []byte(answer)}
}

const (
	// maxRefusing bounds the goroutines writing refusals at once. Past it a connection is
	// closed without an answer: a flood must not turn into a flood of goroutines.
	maxRefusing = 64
	// refuseTimeout bounds the write of a refusal (and the TLS handshake before it).
	refuseTimeout = time.Second
	// refusalLogEvery spaces the warnings about refused connections, which come in floods.
	refusalLogEvery = 10 * time.Second
)

// limitListener enforces tencent.allowed_cidrs (by peer), server.max_conns and
// server.max_conns_per_ip on accepted connections, idle keep-alive ones included, for either
// engine. It sits above the TLS listener, so its refusals reach https clients as readable
// answers. It also counts the open connections, which is how a drain knows when every client
// has gone.
type limitListener struct {
	net.Listener
	max, perIP int
	log        zerolog.Logger
	// onRefuse, if set, is told of each refusal (metrics); it must not block.
	onRefuse func(status int, code string)
	// mayConnect, if set, says whether a peer may hold a connection at all (the source
	// allow-list, which a reload may change); it must be cheap.
	mayConnect func(ip string) bool

	mu   sync.Mutex
	open int
	byIP map[string]int

	refusing  chan struct{}
	refused   atomic.Int64 // since the last warning
	lastWarn  atomic.Int64 // unix nanoseconds
	closeOnce sync.Once
	closeErr  error
}

func newLimitListener(ln net.Listener, max, perIP int, log zerolog.Logger, onRefuse func(int, string)) *limitListener {
	return &limitListener{Listener: ln, max: max, perIP: perIP, log: log, onRefuse: onRefuse,
		byIP: map[string]int{}, refusing: make(chan struct{}, maxRefusing)}
}

// Accept returns the next connection within the limits, answering the others itself.
func (l *limitListener) Accept() (net.Conn, error) {
	var pause time.Duration
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			if !isTransientAccept(err) {
				return nil, err
			}
			// Out of file descriptors, or a connection reset before it was accepted: wait
			// and accept again, as net/http does. Returning the error would stop fasthttp's
			// Serve, and with it the router.
			pause = min(max(2*pause, 5*time.Millisecond), time.Second)
			l.log.Warn().Err(err).Dur("retry_in", pause).Msg("accept failed; retrying (raise the open-files limit above server.max_conns)")
			time.Sleep(pause)
			continue
		}
		pause = 0
		ip := remoteIP(c.RemoteAddr().String())
		if l.mayConnect != nil && !l.mayConnect(ip) {
			l.refuse(c, refuseSource)
			continue
		}
		r := l.admit(ip)
		if r == nil {
			return &limitedConn{Conn: c, l: l, ip: ip}, nil
		}
		l.refuse(c, r)
	}
}

// isTransientAccept reports whether an accept error passes: the process or the system is out
// of file descriptors, or a client reset its connection while it waited in the queue.
func isTransientAccept(err error) bool {
	return errors.Is(err, syscall.EMFILE) || errors.Is(err, syscall.ENFILE) ||
		errors.Is(err, syscall.ECONNABORTED) || errors.Is(err, syscall.ENOBUFS) || errors.Is(err, syscall.ENOMEM)
}

// admit counts a new connection from ip, or returns the refusal it gets.
func (l *limitListener) admit(ip string) *connRefusal {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.open >= l.max:
		return refuseTooManyConns
	case l.perIP > 0 && l.byIP[ip] >= l.perIP:
		return refuseTooManyPerIP
	}
	l.open++
	l.byIP[ip]++
	return nil
}

func (l *limitListener) release(ip string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.open--
	if n := l.byIP[ip] - 1; n > 0 {
		l.byIP[ip] = n
	} else {
		delete(l.byIP, ip)
	}
}

// Open returns the number of connections open now.
func (l *limitListener) Open() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.open
}

// refuse answers a connection past a limit and closes it, off the accept loop.
func (l *limitListener) refuse(c net.Conn, r *connRefusal) {
	l.warnRefused()
	if l.onRefuse != nil {
		l.onRefuse(r.status, r.code)
	}
	select {
	case l.refusing <- struct{}{}:
	default:
		c.Close()
		return
	}
	go func() {
		defer func() { <-l.refusing }()
		c.SetDeadline(time.Now().Add(refuseTimeout))
		if !awaitRequest(c) {
			c.Close()
			return
		}
		if _, err := c.Write(r.answer); err == nil { // a client that cannot take the answer gets the close
			lingerClose(c)
		}
		c.Close()
	}()
}

// requestWait bounds how long a refusal waits for the client's request before answering
// anyway.
const requestWait = refuseTimeout / 2

// awaitRequest waits for the start of the client's request before the refusal is written,
// and reports whether the client is still there. An answer that reaches an HTTP client before
// it has sent its request is one it may not take: Go's client, for one, drops an "unsolicited
// response" on a new connection and reports a broken connection instead of the refusal. A
// client that sends nothing within requestWait still gets the answer.
func awaitRequest(c net.Conn) bool {
	var first [512]byte
	c.SetReadDeadline(time.Now().Add(requestWait))
	_, err := c.Read(first[:])
	c.SetReadDeadline(time.Now().Add(refuseTimeout - requestWait))
	var ne net.Error
	return err == nil || (errors.As(err, &ne) && ne.Timeout())
}

// lingerCap bounds what a lingering close reads from a refused client.
const lingerCap = 64 << 10

// lingerClose half-closes c after its answer and reads what the client still sends until it
// closes too (or the deadline set on c passes). Closing at once with the client's request
// unread in the socket would make the kernel send a reset, and a reset can reach the client
// before it has read the answer: it would see a broken connection instead of the refusal.
func lingerClose(c net.Conn) {
	cw, ok := c.(interface{ CloseWrite() error })
	if !ok || cw.CloseWrite() != nil {
		return
	}
	_, _ = io.CopyN(io.Discard, c, lingerCap)
}

func (l *limitListener) warnRefused() {
	n := l.refused.Add(1)
	now, last := time.Now().UnixNano(), l.lastWarn.Load()
	if now-last < int64(refusalLogEvery) || !l.lastWarn.CompareAndSwap(last, now) {
		return
	}
	l.refused.Add(-n)
	l.log.Warn().Int64("refused", n).Int("max_conns", l.max).Int("max_conns_per_ip", l.perIP).
		Msg("connections refused: server.max_conns or server.max_conns_per_ip reached, or the source is not in tencent.allowed_cidrs")
}

// Close stops accepting; it may be called more than once (a drain closes it, then the
// engine's shutdown does again).
func (l *limitListener) Close() error {
	l.closeOnce.Do(func() { l.closeErr = l.Listener.Close() })
	return l.closeErr
}

// limitedConn gives its slot back when closed, once however often it is closed.
type limitedConn struct {
	net.Conn
	l    *limitListener
	ip   string
	once sync.Once
}

func (c *limitedConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() { c.l.release(c.ip) })
	return err
}
