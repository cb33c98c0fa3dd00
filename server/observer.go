package server

import (
	"time"

	"github.com/callback-router/callback-router/proxy"
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

// Observers returns an Observer that tells each of obs in turn, skipping nil ones. It also
// passes deliveries on to those that implement DeliveryObserver.
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

// nopObserver is the Observer of a Handler that was given none.
type nopObserver struct{}

func (nopObserver) Observe(Event) {}

var (
	_ Observer         = multiObserver(nil)
	_ DeliveryObserver = multiObserver(nil)
)
