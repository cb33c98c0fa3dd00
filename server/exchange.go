package server

import (
	"sync"
	"time"

	"github.com/callback-router/callback-router/tracing"
)

// Inbound is a callback request as the connection layer read it. Body is only valid for the
// duration of Handle; whatever keeps it longer (the async queue) copies it.
type Inbound struct {
	// Received is when the request arrived; the route's deadline counts from it.
	Received time.Time
	Method   string
	Path     string
	RawQuery string
	Body     []byte
	// BodyTooLarge is set by the connection layer, which stops reading past the limit.
	BodyTooLarge bool
	// RemoteIP is the peer's address without port; ForwardedFor is its X-Forwarded-For header.
	RemoteIP     string
	ForwardedFor string
	// TRTCAppID and TRTCSign are the SdkAppId and Sign headers, which TRTC's event
	// callbacks carry (Chat and Live callbacks carry theirs in the query).
	TRTCAppID, TRTCSign string
	// Trace is the W3C traceparent and tracestate the request came with, if any.
	Trace tracing.Incoming
}

// Outbound is the answer the connection layer writes. Every answer is JSON.
type Outbound struct {
	Status int
	Body   []byte
	// RequestID goes out as X-Request-Id, so an operator can find the log line.
	RequestID string
	// Fallback, when set, goes out as X-Callback-Fallback: the router answered on the
	// upstream's behalf, and why.
	Fallback string
	// Allow, when set, goes out as the Allow header of a 405.
	Allow string
	// Close asks the connection layer to close the connection after the answer (the router
	// is draining). Refusals (status 400 and up) close it anyway.
	Close bool
}

// exchange is one request's Inbound and Outbound, reused from request to request
// (exchanges) by the fasthttp engine: off the stack of the connection's goroutine, which
// the whole call to the upstream runs on, so that a callback waiting on its upstream fits
// that goroutine's 8 KiB stack rather than doubling it. Nothing keeps either once the
// answer is written: whoever needs a part longer copies it.
type exchange struct {
	in  Inbound
	out Outbound
}

var exchanges = sync.Pool{New: func() any { return new(exchange) }}

func (x *exchange) release() {
	*x = exchange{}
	exchanges.Put(x)
}
