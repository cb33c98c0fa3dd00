package server

import (
	"time"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/shadow"
)

// Observer is told how every callback ended, for metrics and the status page. Observe runs on
// the request path once the answer is decided, so it must be cheap and must never block; it
// receives the Event by value and may keep its strings.
type Observer interface {
	Observe(ev Event)
}

// Event is one answered callback: what its log line says, as values.
type Event struct {
	// Received is when the request arrived; Latency is how long its answer took.
	Received time.Time
	Latency  time.Duration

	RequestID string
	// App is the name of the callback's app, AppNone when it was refused before its app was
	// known. Apps come from the config, so the label is bounded.
	App string
	// Verified is set when one of the app's tokens verified the callback's Sign (not when the
	// app is served unsigned, nor for a refusal); TokenSlot is then its position in the
	// app's tokens.
	Verified  bool
	TokenSlot int
	// Command is as Tencent (or anyone) sent it: unbounded, so an observer that uses it as a
	// metric label must bound it first.
	Command  string
	Route    string // "" when the request was refused before routing
	Upstream string
	Instance string
	Attempts int
	// UpstreamStatus is the upstream's last HTTP status, 0 when none came back.
	UpstreamStatus int
	// Status is the HTTP status Tencent got.
	Status     int
	Decision   string       // one of the Decision constants
	Reason     proxy.Reason // why the router answered itself; "" otherwise
	RejectCode string       // why the request was refused; "" otherwise
}

// DeliveryObserver is told when an async callback leaves the delivery queue: delivered, or
// given up as too old. An Observer that also implements it is wired into the queue.
type DeliveryObserver interface {
	Delivered(route, upstream string, age time.Duration, ok bool)
}

// ShadowObserver is told how each mirrored callback compared, once both answers are known
// (or the mirror was skipped). It runs on the mirror's goroutine, never on the request
// path, but must not block either. An Observer that also implements it is told.
type ShadowObserver interface {
	Shadowed(ev ShadowEvent)
}

// ShadowEvent is one mirrored callback of a synchronous route. It carries what the status
// page lists, never a body.
type ShadowEvent struct {
	// Received is when the callback arrived.
	Received  time.Time
	RequestID string
	// Command is as sent: unbounded, like Event.Command.
	Command string
	// App is the callback's SdkAppid.
	App   string
	Route string
	// Upstream is the candidate.
	Upstream string
	Result   shadow.Result
	// Primary is what Tencent got and Candidate what the candidate answered, in a few
	// words (shadow.Describe).
	Primary, Candidate string
	// Duration is how long the candidate took to answer or fail; 0 when it was not called.
	Duration time.Duration
}

// Observers returns an Observer that tells each of obs in turn, skipping nil ones. It also
// passes deliveries and shadow comparisons on to those that implement DeliveryObserver and
// ShadowObserver.
func Observers(obs ...Observer) Observer {
	var out multiObserver
	for _, o := range obs {
		if o != nil {
			out = append(out, o)
		}
	}
	return out
}

type multiObserver []Observer

func (m multiObserver) Observe(ev Event) {
	for _, o := range m {
		o.Observe(ev)
	}
}

func (m multiObserver) Delivered(route, upstream string, age time.Duration, ok bool) {
	for _, o := range m {
		if d, is := o.(DeliveryObserver); is {
			d.Delivered(route, upstream, age, ok)
		}
	}
}

func (m multiObserver) Shadowed(ev ShadowEvent) {
	for _, o := range m {
		if s, is := o.(ShadowObserver); is {
			s.Shadowed(ev)
		}
	}
}

// nopObserver is the Observer of a Handler that was given none.
type nopObserver struct{}

func (nopObserver) Observe(Event) {}

var (
	_ Observer         = multiObserver(nil)
	_ DeliveryObserver = multiObserver(nil)
	_ ShadowObserver   = multiObserver(nil)
)
