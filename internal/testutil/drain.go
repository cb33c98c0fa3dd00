package testutil

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/http/httptrace"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// DrainLoad is keep-alive load on a server that is about to shut down: senders post one
// body after another, with the pauses of real traffic, until the server refuses their dial.
// A graceful shutdown answers every request sent on a connection it accepted; Cut counts
// the ones it did not.
type DrainLoad struct {
	Answered atomic.Int64 // a whole 200 with a JSON body: the upstream's answer or a fallback
	Refused  atomic.Int64 // the dial was refused: the server had stopped accepting
	// Backlog counts new connections reset before the server accepted them: the kernel had
	// completed them into the listen queue an instant before the port closed, which no
	// server can answer. A reused (keep-alive) connection is never counted here.
	Backlog  atomic.Int64
	Cut      atomic.Int64 // anything else: a request sent and never answered whole
	firstCut atomic.Pointer[string]
	wg       sync.WaitGroup
}

// StartDrainLoad starts n senders posting body to url, each on a keep-alive client of its
// own, until each is refused at the dial.
func StartDrainLoad(n int, url, body string) *DrainLoad {
	l := &DrainLoad{}
	for range n {
		l.wg.Go(func() { l.send(url, body) })
	}
	return l
}

// Wait returns once every sender has been refused (or reset in the backlog).
func (l *DrainLoad) Wait() { l.wg.Wait() }

// FirstCut describes the first request cut, "" when none was.
func (l *DrainLoad) FirstCut() string {
	if p := l.firstCut.Load(); p != nil {
		return *p
	}
	return ""
}

// String sums the load up for the test's log.
func (l *DrainLoad) String() string {
	return fmt.Sprintf("answered %d, cut %d, refused at the dial after the drain %d, reset in the listen backlog as the port closed %d",
		l.Answered.Load(), l.Cut.Load(), l.Refused.Load(), l.Backlog.Load())
}

func (l *DrainLoad) cutBy(why string) {
	l.Cut.Add(1)
	l.firstCut.CompareAndSwap(nil, &why)
}

// send posts until a dial is refused. The body cannot be rewound (no GetBody), so net/http
// does not resend a request whose connection closed under it: a cut shows as the error it is.
func (l *DrainLoad) send(url, body string) {
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1}, Timeout: 10 * time.Second}
	defer client.CloseIdleConnections()
	for {
		var reused bool
		trace := &httptrace.ClientTrace{GotConn: func(i httptrace.GotConnInfo) { reused = i.Reused }}
		req, _ := http.NewRequest(http.MethodPost, url, io.NopCloser(strings.NewReader(body)))
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
		resp, err := client.Do(req)
		if err != nil {
			var op *net.OpError
			switch {
			case errors.Is(err, syscall.ECONNREFUSED):
				l.Refused.Add(1)
				return
			case errors.As(err, &op) && op.Op == "dial", !reused:
				// A new connection that fails before its first answer was caught in the
				// listen queue as the port closed (reset, or closed under the write): the
				// server never accepted it. Connections it did accept are not closed before
				// their first request is answered, or their grace runs out.
				l.Backlog.Add(1)
				return
			}
			l.cutBy(err.Error())
			continue
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK || !json.Valid(b) {
			l.cutBy(fmt.Sprintf("%d %q %v", resp.StatusCode, b, err))
			continue
		}
		l.Answered.Add(1)
		// Real traffic leaves connections idle between requests: that is when closing one
		// races a client about to send on it.
		time.Sleep(time.Duration(rand.N(20)) * time.Millisecond)
	}
}
