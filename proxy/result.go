package proxy

import "errors"

// Reason says why a forward produced no answer for Tencent. The values are the ones the router
// sends in X-Callback-Fallback and logs.
type Reason string

// Reasons a forward fails; the router adds its own (overloaded, no_route).
const (
	ReasonTimeout       Reason = "timeout"        // the deadline passed before an answer
	ReasonBreakerOpen   Reason = "breaker_open"   // no instance's breaker let a call through
	ReasonUpstreamError Reason = "upstream_error" // attempts exhausted: errors, bad statuses or envelopes
	ReasonClientGone    Reason = "client_gone"    // Tencent hung up; nobody is waiting for an answer
)

// Errors a failed attempt carries. They count against the instance's breaker.
var (
	ErrStatus      = errors.New("upstream answered a status other than 200")
	ErrBadEnvelope = errors.New("upstream answered 200 without a JSON object carrying an integer ErrorCode")
	ErrTooLarge    = errors.New("upstream answer exceeds max_response_bytes")
	ErrBreakerOpen = errors.New("circuit breaker open for every instance")
	errNoDeadline  = errors.New("proxy: request without a deadline")
	errNoAnswer    = errors.New("proxy: neither an answer nor an error")
)

// Result is the outcome of Forward.
type Result struct {
	// Body is the upstream's answer, to be passed to Tencent verbatim. Set only on success.
	Body []byte
	// Status is the last HTTP status the upstream answered, 0 when none came back.
	Status int
	// Attempts counts the attempts made, 0 when the breaker refused the first.
	Attempts int
	// Instance is the URL of the last instance called, for logs.
	Instance string
	// Reason is empty on success.
	Reason Reason
	// Err is the last error, nil on success.
	Err error
}

// OK reports whether the upstream gave an answer Tencent accepts.
func (r *Result) OK() bool { return r.Reason == "" }
