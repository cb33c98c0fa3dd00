package delivery

import (
	"time"

	"github.com/callback-router/callback-router/proxy"
)

// Job is one callback to deliver to one upstream.
type Job struct {
	Upstream *proxy.Upstream
	Route    string
	// App is the name of the callback's app; Command its CallbackCommand (or TRTC name).
	App       string
	Command   string
	Body      []byte // owned by the job: the caller passes a copy
	RawQuery  string
	RequestID string
	// ForwardedFor is passed on as X-Forwarded-For.
	ForwardedFor string
	// Headers are the callback's own headers passed on (a TRTC event's SdkAppId and Sign)
	// and the router's naming ones (X-Callback-Command, X-Callback-App).
	Headers []proxy.Header
	// StatusOnly accepts any 200 from the upstream (TRTC's events), not only Tencent's
	// envelope.
	StatusOnly bool
	RetryOn    []int
	Received   time.Time
	// EventID identifies the callback across retries, restarts and instances; it is sent as
	// X-Callback-Event-Id (see EventID), and a backend holds one pending delivery per
	// (EventID, upstream).
	EventID string
	// OrderKey, when set, is the room whose callbacks reach this upstream one at a time, in
	// arrival order.
	OrderKey string
	// Verdict, when set, makes the job a journal entry: the router answered Tencent with this
	// fallback verdict (allow or deny) for Reason, and tells the upstream so.
	Verdict string
	Reason  string
	// TraceParent is the traceparent of the callback that queued the job, "" when it was
	// not traced: the delivery's span links to it.
	TraceParent string
}
