package proxy_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/callback-router/callback-router/internal/upstreamtest"
	"github.com/callback-router/callback-router/proxy"
)

// TestStatusOnlyAcceptsAny200: a TRTC event's upstream answers HTTP 200 with whatever body
// its handler writes ({"code":0}, nothing, text); only the status decides. Without
// StatusOnly the same answers fail, as a Chat callback's would.
func TestStatusOnlyAcceptsAny200(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		body       string
		statusOnly bool
		wantErr    error // nil: the answer is accepted and passed back verbatim
	}{
		{name: "TRTC's recommended answer", status: 200, body: `{"code":0}`, statusOnly: true},
		{name: "an empty 200", status: 200, body: ``, statusOnly: true},
		{name: "text", status: 200, body: `ok`, statusOnly: true},
		{name: "a Chat envelope", status: 200, body: upstreamtest.AllowBody, statusOnly: true},
		{name: "a 500 still fails", status: 500, body: `{"code":0}`, statusOnly: true, wantErr: proxy.ErrStatus},
		{name: "a 204 is not a 200", status: 204, body: ``, statusOnly: true, wantErr: proxy.ErrStatus},
		{name: "without StatusOnly the envelope is required", status: 200, body: `{"code":0}`, wantErr: proxy.ErrBadEnvelope},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u := upstreamtest.Start(t, upstreamtest.Answer(tt.status, tt.body))
			up, err := proxy.New(proxy.Spec{Name: "rooms", URLs: []string{u.URL}, MaxConns: 4, MaxResponseBytes: 1 << 20,
				Breaker: proxy.BreakerSettings{ConsecutiveFailures: 100, OpenFor: time.Second, HalfOpenRequests: 1}})
			if err != nil {
				t.Fatal(err)
			}
			defer up.CloseIdleConnections()
			res := up.Caller(proxy.Policy{}).Forward(context.Background(), time.Now().Add(2*time.Second),
				&proxy.Call{Body: []byte(`{"EventGroupId":1,"EventType":103}`), RequestID: "r1", StatusOnly: tt.statusOnly})
			if tt.wantErr != nil {
				if res.OK() || !errors.Is(res.Err, tt.wantErr) {
					t.Errorf("Forward() = %+v, want a failure with %v", res, tt.wantErr)
				}
				return
			}
			if !res.OK() {
				t.Fatalf("Forward() = %+v, want the answer accepted", res)
			}
			if got := string(res.Body); got != tt.body {
				t.Errorf("answer body = %q, want %q verbatim", got, tt.body)
			}
		})
	}
}

// TestOneCallerServesBothKinds: a route serving Chat callbacks and TRTC events ("*") calls its
// upstream through one Caller; each call is judged by its own kind, and a TRTC answer does
// not count against the breaker as a malformed envelope would.
func TestOneCallerServesBothKinds(t *testing.T) {
	u := upstreamtest.Start(t, upstreamtest.Answer(200, `{"code":0}`))
	up, err := proxy.New(proxy.Spec{Name: "any", URLs: []string{u.URL}, MaxConns: 4, MaxResponseBytes: 1 << 20,
		Breaker: proxy.BreakerSettings{ConsecutiveFailures: 2, OpenFor: time.Minute, HalfOpenRequests: 1}})
	if err != nil {
		t.Fatal(err)
	}
	defer up.CloseIdleConnections()
	caller := up.Caller(proxy.Policy{})
	forward := func(statusOnly bool) proxy.Result {
		return caller.Forward(context.Background(), time.Now().Add(2*time.Second), &proxy.Call{Body: []byte(`{}`), RequestID: "r", StatusOnly: statusOnly})
	}
	for range 5 {
		if res := forward(true); !res.OK() {
			t.Fatalf("TRTC call: %+v, want the answer accepted", res)
		}
	}
	if res := forward(false); res.OK() || !errors.Is(res.Err, proxy.ErrBadEnvelope) {
		t.Errorf("Chat call: %+v, want ErrBadEnvelope", res)
	}
	if !up.Available() {
		t.Errorf("the breaker opened: TRTC's answers were counted as failures")
	}
}
