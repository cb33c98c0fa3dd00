package server

import (
	"sync"
	"weak"

	"github.com/valyala/fasthttp"
)

// chunkedHeads remembers the head of each chunked request fasthttp reads, until its body
// is read. fasthttp resets a request — method, URI, headers — when a chunked body turns out
// longer than the limit (a Content-Length over the limit is refused before, headers
// intact), so without this the error handler could not tell a 413 from a 405, nor log the
// app. Tencent sends a Content-Length: only the rare chunked request pays for this.
//
// It is keyed by the request header, which fasthttp keeps in the connection's pooled
// RequestCtx and hands to HeaderReceived; a weak key does not keep a context the pool let
// go of alive. An entry is consulted only right after its own request's header was stored
// under the same key, so one left over from an earlier request (a body cut by the client
// ends with no error handler called) is overwritten before it could be read.
type chunkedHeads struct {
	mu      sync.Mutex
	m       map[weak.Pointer[fasthttp.RequestHeader]]chunkedHead
	sweepAt int // the size at which entries of collected contexts are next dropped
}

// chunkedHead is what the Handler needs of a request besides its body.
type chunkedHead struct {
	method, path, rawQuery, forwardedFor string
}

// minSweep is the least size at which entries of collected contexts are dropped; the next
// sweep waits for twice what is left, so a sweep costs O(1) per entry stored.
const minSweep = 1024

// remember stores h's head if its body is chunked.
func (c *chunkedHeads) remember(h *fasthttp.RequestHeader) {
	if h.ContentLength() != -1 { // -1: chunked
		return
	}
	head := chunkedHead{method: string(h.Method()), path: string(h.RequestURI()), forwardedFor: forwardedForFast(h)}
	var u fasthttp.URI
	if err := u.Parse(h.Host(), h.RequestURI()); err == nil {
		head.path, head.rawQuery = string(u.Path()), string(u.QueryString())
	}
	key := weak.Make(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.m == nil {
		c.m = map[weak.Pointer[fasthttp.RequestHeader]]chunkedHead{}
	}
	if len(c.m) >= max(c.sweepAt, minSweep) {
		for k := range c.m {
			if k.Value() == nil {
				delete(c.m, k)
			}
		}
		c.sweepAt = 2 * len(c.m)
	}
	c.m[key] = head
}

// take returns and forgets the head stored for h.
func (c *chunkedHeads) take(h *fasthttp.RequestHeader) (chunkedHead, bool) {
	key := weak.Make(h)
	c.mu.Lock()
	defer c.mu.Unlock()
	head, ok := c.m[key]
	delete(c.m, key)
	return head, ok
}
