// Package otlptest runs a real OTLP/HTTP trace receiver on loopback, as a collector would,
// decoding each export with the protocol's own protobuf types and keeping the spans, so
// tests can check what the router exported. It can also hang, to play a collector that
// stopped answering.
package otlptest

import (
	"compress/gzip"
	"encoding/hex"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	coltracepb "go.opentelemetry.io/proto/otlp/collector/trace/v1"
	commonpb "go.opentelemetry.io/proto/otlp/common/v1"
	tracepb "go.opentelemetry.io/proto/otlp/trace/v1"
	"google.golang.org/protobuf/proto"
)

// Span is an exported span, flattened for tests.
type Span struct {
	Name         string
	TraceID      string // hex
	SpanID       string // hex
	ParentSpanID string // hex, "" for a root
	Kind         tracepb.Span_SpanKind
	Attributes   map[string]string // values as text
	Links        []string          // linked trace ids, hex
	Service      string            // the resource's service.name
	StatusError  bool
}

// Receiver is a loopback OTLP/HTTP receiver at URL (the base: spans are posted to
// URL+"/v1/traces").
type Receiver struct {
	*httptest.Server
	mu      sync.Mutex
	spans   []Span
	exports atomic.Int64
	hang    atomic.Bool
	release chan struct{}
}

// Start runs a receiver until the test ends.
func Start(t testing.TB) *Receiver {
	t.Helper()
	r := &Receiver{release: make(chan struct{})}
	r.Server = httptest.NewServer(http.HandlerFunc(r.serve))
	t.Cleanup(func() {
		close(r.release)
		r.Server.CloseClientConnections()
		r.Server.Close()
	})
	return r
}

// Hang makes the receiver take requests and never answer them (until the test ends).
func (r *Receiver) Hang() { r.hang.Store(true) }

func (r *Receiver) serve(w http.ResponseWriter, req *http.Request) {
	if r.hang.Load() {
		select {
		case <-req.Context().Done():
		case <-r.release:
		}
		return
	}
	if req.Method != http.MethodPost || req.URL.Path != "/v1/traces" {
		http.Error(w, "not an OTLP traces export", http.StatusNotFound)
		return
	}
	var body io.Reader = req.Body
	if req.Header.Get("Content-Encoding") == "gzip" {
		zr, err := gzip.NewReader(req.Body)
		if err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		body = zr
	}
	b, err := io.ReadAll(body)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var export coltracepb.ExportTraceServiceRequest
	if err := proto.Unmarshal(b, &export); err != nil {
		http.Error(w, "not an ExportTraceServiceRequest: "+err.Error(), http.StatusBadRequest)
		return
	}
	r.exports.Add(1)
	r.mu.Lock()
	for _, rs := range export.GetResourceSpans() {
		service := attributes(rs.GetResource().GetAttributes())["service.name"]
		for _, ss := range rs.GetScopeSpans() {
			for _, s := range ss.GetSpans() {
				r.spans = append(r.spans, flatten(s, service))
			}
		}
	}
	r.mu.Unlock()
	resp, _ := proto.Marshal(&coltracepb.ExportTraceServiceResponse{})
	w.Header().Set("Content-Type", "application/x-protobuf")
	w.Write(resp)
}

func flatten(s *tracepb.Span, service string) Span {
	out := Span{Name: s.GetName(), TraceID: hex.EncodeToString(s.GetTraceId()), SpanID: hex.EncodeToString(s.GetSpanId()),
		Kind: s.GetKind(), Attributes: attributes(s.GetAttributes()), Service: service,
		StatusError: s.GetStatus().GetCode() == tracepb.Status_STATUS_CODE_ERROR}
	if p := s.GetParentSpanId(); len(p) > 0 {
		out.ParentSpanID = hex.EncodeToString(p)
	}
	for _, l := range s.GetLinks() {
		out.Links = append(out.Links, hex.EncodeToString(l.GetTraceId()))
	}
	return out
}

func attributes(kvs []*commonpb.KeyValue) map[string]string {
	m := make(map[string]string, len(kvs))
	for _, kv := range kvs {
		v := kv.GetValue()
		switch v.GetValue().(type) {
		case *commonpb.AnyValue_IntValue:
			m[kv.GetKey()] = strconv.FormatInt(v.GetIntValue(), 10)
		case *commonpb.AnyValue_BoolValue:
			m[kv.GetKey()] = strconv.FormatBool(v.GetBoolValue())
		default:
			m[kv.GetKey()] = v.GetStringValue()
		}
	}
	return m
}

// Spans returns a copy of the spans received so far.
func (r *Receiver) Spans() []Span {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]Span(nil), r.spans...)
}

// Exports counts the export requests decoded.
func (r *Receiver) Exports() int64 { return r.exports.Load() }

// WaitFor polls until match returns true for the spans received, or the bound passes, and
// returns the spans seen last.
func (r *Receiver) WaitFor(t testing.TB, within time.Duration, match func([]Span) bool) []Span {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		spans := r.Spans()
		if match(spans) {
			return spans
		}
		if time.Now().After(deadline) {
			t.Fatalf("the receiver did not get the spans wanted within %s; got %d spans: %+v", within, len(spans), spans)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
