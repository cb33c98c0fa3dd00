package router_test

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/router"
)

// BenchmarkLookup routes the kinds of command Tencent sends against a table shaped like a
// production config: exact names, patterns and a catch-all.
func BenchmarkLookup(b *testing.B) {
	cfg, err := config.Parse(strings.NewReader(`
upstreams: {up: {url: "http://127.0.0.1:1"}}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: up
  - commands: ["Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg"]
    upstream: up
  - commands: ["Live.CallbackAfter*", "Mic.*", "Group.CallbackAfter*"]
    upstream: up
    async: true
  - commands: ["*"]
`))
	if err != nil {
		b.Fatal(err)
	}
	t, err := router.Compile(cfg, router.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, cmd := range []string{"Live.CallbackBeforeSendGift", "Live.CallbackAfterEndBattle", "State.StateChange"} {
		b.Run(cmd, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if t.Lookup(cmd).Route == nil {
					b.Fatal("no route")
				}
			}
		})
	}
}
