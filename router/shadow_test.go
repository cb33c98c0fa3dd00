package router_test

import (
	"testing"
)

func TestCompiledShadow(t *testing.T) {
	table := compile(t, `
upstreams:
  moderation: {url: "http://127.0.0.1:9002/moderation"}
  moderation_v2: {url: "http://127.0.0.1:9004/moderation"}
routes:
  - name: sampled
    commands: ["Group.CallbackBeforeSendMsg"]
    upstream: moderation
    shadow: {upstream: Moderation_V2, percent: 0, max_in_flight: 2}
  - name: plain
    commands: ["*"]
    upstream: moderation
`)
	s := table.Routes[0].Shadow
	if s == nil {
		t.Fatal("routes[0].Shadow = nil, want the compiled shadow")
	}
	if got, want := s.Upstream, table.Upstreams["moderation_v2"]; got != want {
		t.Errorf("Shadow.Upstream: got %v, want the table's moderation_v2", got)
	}
	if s.Mirrors("any-id") {
		t.Errorf("Mirrors() at percent 0 = true, want false")
	}
	if !s.Acquire() || !s.Acquire() {
		t.Fatal("Acquire() within max_in_flight = false, want true")
	}
	if s.Acquire() {
		t.Errorf("Acquire() past max_in_flight = true, want false")
	}
	s.Release()
	s.Release()
	if got, want := s.InFlight(), int64(0); got != want {
		t.Errorf("InFlight() after every Release = %d, want %d", got, want)
	}
	if table.Routes[1].Shadow != nil {
		t.Errorf("a route without shadow compiled one: %+v", table.Routes[1].Shadow)
	}
}
