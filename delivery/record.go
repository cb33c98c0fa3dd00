package delivery

import (
	"encoding/json"
	"strings"
	"time"

	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/redact"
)

// Record is one delivery of one callback to one upstream, as a durable store keeps it.
type Record struct {
	// Seq orders records by arrival within a store; ID is the store's name for the record
	// in `queue list` and `queue replay`.
	Seq uint64 `json:"seq"`
	// EventID is sent as X-Callback-Event-Id; a store holds at most one pending record per
	// (EventID, Upstream).
	EventID      string `json:"event_id"`
	Upstream     string `json:"upstream"`
	Route        string `json:"route"`
	App          string `json:"app,omitempty"` // empty in records stored before apps existed
	Command      string `json:"command"`
	Body         []byte `json:"body,omitempty"`
	RawQuery     string `json:"query,omitempty"`
	RequestID    string `json:"request_id"`
	ForwardedFor string `json:"forwarded_for,omitempty"`
	// Headers are passed on with every delivery (see Job.Headers).
	Headers    []proxy.Header `json:"headers,omitempty"`
	StatusOnly bool           `json:"status_only,omitempty"`
	RetryOn    []int          `json:"retry_on,omitempty"`
	OrderKey   string         `json:"order_key,omitempty"`
	Verdict    string         `json:"verdict,omitempty"`
	Reason     string         `json:"reason,omitempty"`
	// TraceParent is the traceparent of the callback that queued the record: its
	// deliveries' spans link to it.
	TraceParent string    `json:"traceparent,omitempty"`
	Received    time.Time `json:"received"`
	// Replayed restarts the max_age clock of a record an operator replayed.
	Replayed  time.Time `json:"replayed,omitzero"`
	Attempts  int       `json:"attempts"`
	NextAt    time.Time `json:"next_at,omitzero"`
	LastError string    `json:"last_error,omitempty"`
	// DeadAt is when the record moved to the dead letters.
	DeadAt time.Time `json:"dead_at,omitzero"`
}

// recordFromJob copies a job into a record; the body is shared, not copied.
func recordFromJob(j *Job) *Record {
	return &Record{
		EventID: j.EventID, Upstream: j.Upstream.Name(), Route: j.Route, App: j.App, Command: j.Command,
		Body: j.Body, RawQuery: j.RawQuery, RequestID: j.RequestID, ForwardedFor: j.ForwardedFor,
		Headers: j.Headers, StatusOnly: j.StatusOnly,
		RetryOn: j.RetryOn, OrderKey: j.OrderKey, Verdict: j.Verdict, Reason: j.Reason,
		TraceParent: j.TraceParent, Received: j.Received,
	}
}

// maskForListing hides in r, a copy decoded for a listing, what no listing shows: the Sign
// of the stored query, and a TRTC event's Sign header. A Sign with its RequestTime is a
// valid signature for any body within the clock skew, and a TRTC Sign, with its body, never
// expires; the store keeps them because upstreams verify them, but `queue list` and
// /queue/list are read by people and pasted into tickets.
func (r *Record) maskForListing() *Record {
	r.RawQuery = redact.Sign(r.RawQuery)
	for i, h := range r.Headers {
		if strings.EqualFold(h.Name, "Sign") {
			r.Headers[i].Value = redact.Mask
		}
	}
	return r
}

// dedupKey is what makes two records the same delivery.
func (r *Record) dedupKey() []byte { return []byte(r.EventID + "\x00" + r.Upstream) }

// since is when the record's max_age clock started: arrival, or the last replay.
func (r *Record) since() time.Time {
	if r.Replayed.After(r.Received) {
		return r.Replayed
	}
	return r.Received
}

// size estimates what the record will count against delivery.max_bytes once stored
// (base64 body and JSON fields), to refuse an append before writing it.
func (r *Record) size() int64 {
	n := len(r.Body)*4/3 + len(r.RawQuery) + 400
	for _, h := range r.Headers {
		n += len(h.Name) + len(h.Value) + 24
	}
	return int64(n)
}

func (r *Record) encode() ([]byte, error) { return json.Marshal(r) }

func decodeRecord(b []byte) (*Record, error) {
	r := new(Record)
	if err := json.Unmarshal(b, r); err != nil {
		return nil, err
	}
	return r, nil
}
