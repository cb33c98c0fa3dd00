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
	Received   time.Time      `json:"received"`
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
		Received: j.Received,
	}
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

// masked returns the record as listings show it: Tencent's Sign masked in the query and in
// the headers. A Sign with its body (or, for Chat, its RequestTime) authenticates a callback;
// a TRTC event's Sign never expires, so no listing shows one.
func (r *Record) masked() *Record {
	m := *r
	m.RawQuery = redact.Sign(r.RawQuery)
	if len(r.Headers) > 0 {
		m.Headers = make([]proxy.Header, len(r.Headers))
		for i, h := range r.Headers {
			if strings.EqualFold(h.Name, "Sign") {
				h.Value = redact.Mask
			}
			m.Headers[i] = h
		}
	}
	return &m
}
