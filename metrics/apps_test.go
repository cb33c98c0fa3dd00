package metrics_test

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/routertest"
	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// giftsConfig has a gifts route to the gifts upstream, then the routes given.
func giftsConfig(routes ...string) *testutil.Config {
	c := testutil.NewConfig("127.0.0.1:0", "").Upstream("gifts", "http://127.0.0.1:9001/gifts").
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: 1500ms}`)
	for _, r := range routes {
		c.Route(r)
	}
	return c
}

// appsConfig serves prod, with prodTokens, and staging, each with its own route.
func appsConfig(prodTokens string) string {
	return giftsConfig(`{name: staging-all, commands: ["*"], apps: [staging]}`).
		SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens: `+prodTokens+`},
			{sdk_app_id: 1400000002, name: staging, tokens: [staging-token]}]}`).String()
}

// twoApps serves prod (two tokens while one rotates) and staging.
var twoApps = appsConfig("[prod-old, prod-new]")

// verified is a callback of app whose Sign the token in slot verified.
func verified(app string, slot int) server.Event {
	return server.Event{App: app, Verified: true, TokenSlot: slot, Command: "Live.CallbackBeforeSendGift",
		Route: "gifts", Decision: server.DecisionUpstream, Status: 200}
}

func TestSignVerifiedCountsTokenSlots(t *testing.T) {
	m := metrics.New()
	table := routertest.Table(t, twoApps, router.Options{})
	m.Install(table)
	m.Watch(func() *router.Table { return table }, nil)
	m.Observe(verified("prod", 0))
	m.Observe(verified("prod", 1))
	m.Observe(verified("prod", 1))
	m.Observe(server.Event{App: "staging", Command: "Live.CallbackBeforeSendGift", Route: "gifts", Decision: server.DecisionUpstream})
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_sign_verified_total{app="prod",token="0"} 1`,
		`callback_router_sign_verified_total{app="prod",token="1"} 2`,
		// Shown from the start, so an unused token is visible as such.
		`callback_router_sign_verified_total{app="staging",token="0"} 0`,
		`callback_router_callbacks_total{app="prod",command="Live.CallbackBeforeSendGift",decision="upstream",route="gifts"} 3`,
		`callback_router_callbacks_total{app="staging",command="Live.CallbackBeforeSendGift",decision="upstream",route="gifts"} 1`,
		`callback_router_route_deadline_seconds{app="prod",route="gifts"} 1.5`,
		`callback_router_route_deadline_seconds{app="staging",route="gifts"} 1.5`,
		`callback_router_route_in_flight{app="staging",route="staging-all"} 0`,
	)
	for _, secret := range []string{"prod-old", "prod-new", "staging-token"} {
		if strings.Contains(text, secret) {
			t.Errorf("/metrics reveals the token %q", secret)
		}
	}
	// A route that does not admit prod has no series for prod.
	if strings.Contains(text, `app="prod",route="staging-all"`) {
		t.Errorf("/metrics has prod series for staging's route:\n%s", text)
	}
}

func TestSignVerifiedFollowsRotation(t *testing.T) {
	m := metrics.New()
	m.Install(routertest.Table(t, twoApps, router.Options{}))
	m.Observe(verified("prod", 0))
	m.Observe(verified("prod", 1))

	// The old token is rotated out: prod-new moves to slot 0, which counts afresh, and slot
	// 1 is gone. staging's slot keeps its token and its count.
	m.Observe(verified("staging", 0))
	m.Install(routertest.Table(t, appsConfig("[prod-new]"), router.Options{}))
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_sign_verified_total{app="prod",token="0"} 0`,
		`callback_router_sign_verified_total{app="staging",token="0"} 1`,
	)
	if strings.Contains(text, `app="prod",token="1"`) {
		t.Errorf("/metrics still has prod's slot 1 after the rotation")
	}
	// A callback verified by a slot the table no longer has (in flight across the reload)
	// does not bring the series back.
	m.Observe(verified("prod", 1))
	if strings.Contains(scrape(t, m), `app="prod",token="1"`) {
		t.Errorf("/metrics brought back prod's slot 1")
	}

	// The same token list again keeps the counts.
	m.Observe(verified("prod", 0))
	m.Install(routertest.Table(t, appsConfig("[prod-new]"), router.Options{}))
	if text := scrape(t, m); !strings.Contains(text, `callback_router_sign_verified_total{app="prod",token="0"} 1`+"\n") {
		t.Errorf("an unchanged token lost its count on reload:\n%s", text)
	}
}

func TestInstallDropsSeriesOfRemovedApps(t *testing.T) {
	m := metrics.New()
	m.Install(routertest.Table(t, twoApps, router.Options{}))
	m.Observe(verified("staging", 0))
	m.Observe(server.Event{App: "staging", Status: 401, Decision: server.DecisionRejected, RejectCode: "bad_signature"})
	m.Observe(verified("prod", 0))
	m.Install(routertest.Table(t, giftsConfig().SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens: [prod-old, prod-new]}]}`).String(),
		router.Options{}))
	text := scrape(t, m)
	if strings.Contains(text, `app="staging"`) {
		t.Errorf("/metrics still has staging's series after the reload removed it:\n%s", text)
	}
	if !strings.Contains(text, `callback_router_callbacks_total{app="prod",command="Live.CallbackBeforeSendGift",decision="upstream",route="gifts"} 1`) {
		t.Errorf("/metrics lost prod's series:\n%s", text)
	}
}

func TestRouteInFlightByApp(t *testing.T) {
	m := metrics.New()
	table := routertest.Table(t, twoApps, router.Options{})
	m.Install(table)
	m.Watch(func() *router.Table { return table }, nil)
	prod, staging := table.AppNamed("prod"), table.AppNamed("staging")
	gifts := table.Routes[0]
	for _, a := range []*router.App{prod, staging, staging} {
		if !gifts.Acquire(a) {
			t.Fatal("Acquire() = false")
		}
		defer gifts.Release(a)
	}
	text := scrape(t, m)
	wantSeries(t, text,
		`callback_router_route_in_flight{app="prod",route="gifts"} 1`,
		`callback_router_route_in_flight{app="staging",route="gifts"} 2`,
	)
	if got, want := gifts.InFlight(), int64(3); got != want {
		t.Errorf("InFlight(): got %d, want %d", got, want)
	}
}
