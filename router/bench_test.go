package router_test

import (
	"testing"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/router"
)

// BenchmarkLookup finds the app of a callback's SdkAppid and routes the kinds of command
// Tencent sends against a table shaped like a production config: exact names, patterns and a
// catch-all, in the single-app form and with two apps whose routes differ.
func BenchmarkLookup(b *testing.B) {
	const routes = `
upstreams: {up: {url: "http://127.0.0.1:1"}, staging: {url: "http://127.0.0.1:2"}}
routes:
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: up
  - commands: ["Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg"]
    upstream: up
  - commands: ["Live.CallbackAfter*", "Mic.*", "Group.CallbackAfter*"]
    upstream: up
    async: true
  - commands: ["*"]
`
	for _, form := range []struct{ name, tencent string }{
		{"single-app", "tencent: {sdk_app_ids: [1400000001]}"},
		{"apps", `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod}
    - {sdk_app_id: 1400000002, name: staging}`},
	} {
		yaml := form.tencent + routes
		if form.name == "apps" {
			yaml += `
  - commands: ["Live.CallbackBeforeSendGift", "Live.CallbackAfter*"]
    apps: [staging]
    upstream: staging
`
		}
		t := routertest.Table(b, yaml, router.Options{})
		for _, cmd := range []string{"Live.CallbackBeforeSendGift", "Live.CallbackAfterEndBattle", "State.StateChange"} {
			b.Run(form.name+"/"+cmd, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					if t.Lookup(t.App("1400000001"), cmd).Route == nil {
						b.Fatal("no route")
					}
				}
			})
		}
	}
}
