package e2e

import (
	"encoding/json"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/internal/testutil"
	"github.com/callback-router/callback-router/internal/upstreamtest"
)

// namedAllow is an upstream's allow carrying its name in ErrorInfo, so that the test
// sees which upstream answered.
func namedAllow(name string) upstreamtest.Behavior {
	return upstreamtest.Answer(http.StatusOK, `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"`+name+`"}`)
}

// signedGift posts the gift sample as app, signed with token, and returns the status and
// the ErrorInfo of the answer (the upstream's name).
func (r *router) signedGift(t *testing.T, app, token string) (int, string) {
	t.Helper()
	a := r.post(t, signed(app, token, giftCommand, false), giftBody, nil)
	var env struct{ ErrorInfo string }
	_ = json.Unmarshal([]byte(a.body), &env)
	return a.status, env.ErrorInfo
}

// TestBinaryServesSeveralApps runs the binary with two apps whose gift callbacks go to
// their own upstreams: each app's callback reaches its own upstream, a token of the other
// app gets 401, sign_verified_total counts which token slot signed, and a rotation written
// to the tokens_file is picked up without a signal, after which the old token is refused
// and no longer counted.
func TestBinaryServesSeveralApps(t *testing.T) {
	prodUp, stagingUp := upstreamtest.Start(t, namedAllow("prod-upstream")), upstreamtest.Start(t, namedAllow("staging-upstream"))
	// prod's tokens come from a file, as a Kubernetes Secret mounts them; staging's token is
	// in the config. Each app has its own upstream for gifts.
	tokens := testutil.WriteFile(t, "prod-tokens", "# prod callback tokens\nprod-old\nprod-new\n")
	r := start(t, newConfig(t).Set("server.shutdown_timeout", "5s").
		SetYAML("tencent", `{apps: [{sdk_app_id: 1400000001, name: prod, tokens_file: `+strconv.Quote(tokens)+`},
			{sdk_app_id: 1400000002, name: staging, tokens: [staging-token]}]}`).
		Upstream("prod-gifts", prodUp.URL).Upstream("staging-gifts", stagingUp.URL).
		Route(`{name: gifts, commands: [Live.CallbackBeforeSendGift], upstream: prod-gifts}`).
		Route(`{name: staging-gifts, commands: [Live.CallbackBeforeSendGift], apps: [staging], upstream: staging-gifts}`))
	r.waitReady(t)

	tests := []struct {
		name       string
		app, token string
		wantStatus int
		wantFrom   string
	}{
		{name: "prod with its old token", app: "1400000001", token: "prod-old", wantStatus: 200, wantFrom: "prod-upstream"},
		{name: "prod with its new token", app: "1400000001", token: "prod-new", wantStatus: 200, wantFrom: "prod-upstream"},
		{name: "staging with its token", app: "1400000002", token: "staging-token", wantStatus: 200, wantFrom: "staging-upstream"},
		{name: "prod with staging's token", app: "1400000001", token: "staging-token", wantStatus: 401},
		{name: "staging with prod's token", app: "1400000002", token: "prod-new", wantStatus: 401},
	}
	for _, tt := range tests {
		status, from := r.signedGift(t, tt.app, tt.token)
		if status != tt.wantStatus || from != tt.wantFrom {
			t.Errorf("%s: got %d from %q, want %d from %q", tt.name, status, from, tt.wantStatus, tt.wantFrom)
		}
	}
	if got, want := len(prodUp.Requests()), 2; got != want {
		t.Errorf("prod's upstream got %d callbacks, want %d", got, want)
	}
	if got, want := len(stagingUp.Requests()), 1; got != want {
		t.Errorf("staging's upstream got %d callbacks, want %d", got, want)
	}
	// Each forward names its command and app.
	for _, c := range []struct {
		up  *upstreamtest.Upstream
		app string
	}{{prodUp, "prod"}, {stagingUp, "staging"}} {
		for _, req := range c.up.Requests() {
			h := req.Header
			if got, want := h.Get("X-Callback-App"), c.app; got != want {
				t.Errorf("X-Callback-App: got %q, want %q", got, want)
			}
			if got, want := h.Get("X-Callback-Command"), "Live.CallbackBeforeSendGift"; got != want {
				t.Errorf("X-Callback-Command: got %q, want %q", got, want)
			}
		}
	}
	for series, want := range map[string]float64{
		`callback_router_sign_verified_total{app="prod",token="0"}`:            1,
		`callback_router_sign_verified_total{app="prod",token="1"}`:            1,
		`callback_router_sign_verified_total{app="staging",token="0"}`:         1,
		`callback_router_rejections_total{app="prod",code="bad_signature"}`:    1,
		`callback_router_rejections_total{app="staging",code="bad_signature"}`: 1,
	} {
		if got := r.metric(t, series); got != want {
			t.Errorf("%s: got %v, want %v", series, got, want)
		}
	}

	// The old token is rotated out by rewriting the file, as a Secret update does.
	tmp := tokens + ".new"
	testutil.Rewrite(t, tmp, "prod-new\n")
	if err := os.Rename(tmp, tokens); err != nil {
		t.Fatal(err)
	}
	testutil.Eventually(t, "the rotated tokens_file", func() bool {
		return r.metric(t, "callback_router_config_reloads_total") == 1
	})
	if status, _ := r.signedGift(t, "1400000001", "prod-old"); status != 401 {
		t.Errorf("prod's rotated-out token: got %d, want 401", status)
	}
	if status, from := r.signedGift(t, "1400000001", "prod-new"); status != 200 || from != "prod-upstream" {
		t.Errorf("prod's new token after the rotation: got %d from %q, want 200 from prod-upstream", status, from)
	}
	// The new token is slot 0 now, counted from its rotation; the old one counts nowhere.
	if got, want := r.metric(t, `callback_router_sign_verified_total{app="prod",token="0"}`), 1.0; got != want {
		t.Errorf("prod's slot 0 after the rotation: got %v, want %v", got, want)
	}
	if got := r.metric(t, `callback_router_sign_verified_total{app="prod",token="1"}`); got != -1 {
		t.Errorf("prod's slot 1 after the rotation: got %v, want no series", got)
	}

	// Every callback line names its app; no token reaches the log.
	testutil.Eventually(t, "the log lines", func() bool { return strings.Count(r.Output.String(), `"message":"callback"`) >= 7 })
	testutil.CheckText(t, "the log", r.Output.String(),
		[]string{`"app":"prod"`, `"app":"staging"`}, []string{"prod-old", "prod-new", "staging-token"})
	if _, body := r.adminGet("/routes"); !strings.Contains(body, `"apps": [
        "staging"
      ]`) {
		t.Errorf("/routes does not show staging-gifts' apps:\n%s", body)
	}

	// routes -command -app explains the choice from the same config.
	out, code := run(t, "routes", "-config", r.config, "-command", "Live.CallbackBeforeSendGift", "-app", "staging")
	if code != 0 || !strings.Contains(out, "route staging-gifts") || !strings.Contains(out, "beats route gifts") {
		t.Errorf("routes -app staging: exit %d\n%s", code, out)
	}
}
