package delivery

import (
	"time"

	"github.com/callback-router/callback-router/proxy"
)

// Job is one callback to deliver to one upstream.
type Job struct {
	Upstream  *proxy.Upstream
	Route     string
	Command   string
	Body      []byte // owned by the job: the caller passes a copy
	RawQuery  string
	RequestID string
	// ForwardedFor is passed on as X-Forwarded-For.
	ForwardedFor string
	RetryOn      []int
	Received     time.Time
}

// Queue accepts jobs for background delivery.
type Queue interface {
	// Enqueue takes all the jobs or none, and reports which: a callback fanned out to
	// several upstreams is either queued for each of them or answered with the fallback.
	Enqueue(jobs ...Job) bool
}
