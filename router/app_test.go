package router_test

import (
	"strings"
	"testing"

	"github.com/callback-router/callback-router/router"
)

// byApp routes gifts differently per app, and lists the app-specific routes first and the
// routes for every app last, so that config order cannot be what decides.
const byApp = `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod}
    - {sdk_app_id: 1400000002, name: staging}
    - {sdk_app_id: 1400000003, name: lab}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  staging-gifts: {url: "http://127.0.0.1:9002/gifts"}
  audit: {url: "http://127.0.0.1:9003/events"}
routes:
  - name: staging-gifts
    commands: ["Live.CallbackBeforeSendGift"]
    apps: [staging]
    upstream: staging-gifts
  - name: staging-live
    commands: ["Live.*"]
    apps: [staging, lab]
    upstream: staging-gifts
  - name: lab-all
    commands: ["*"]
    apps: [lab]
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - name: live-after
    commands: ["Live.CallbackAfter*"]
    upstream: audit
    async: true
  - name: default
    commands: ["*"]
`

func TestLookupByApp(t *testing.T) {
	table := compile(t, byApp)
	tests := []struct {
		name      string
		app       string // app name; "" for an unknown app
		command   string
		wantRoute string
		wantBy    string
		wantOwn   bool   // the route names the app
		wantOver  string // the route for every app it beat, if any
	}{
		{name: "prod takes the route for every app", app: "prod", command: "Live.CallbackBeforeSendGift",
			wantRoute: "gifts", wantBy: router.ByExact},
		{name: "staging takes its own route at equal specificity", app: "staging", command: "Live.CallbackBeforeSendGift",
			wantRoute: "staging-gifts", wantBy: router.ByExact, wantOwn: true, wantOver: "gifts"},
		{name: "ignoring case too", app: "staging", command: "live.callbackbeforesendgift",
			wantRoute: "staging-gifts", wantBy: router.ByExact, wantOwn: true, wantOver: "gifts"},
		{name: "an exact route for every app beats the app's pattern", app: "lab", command: "Live.CallbackBeforeSendGift",
			wantRoute: "gifts", wantBy: router.ByExact},
		{name: "a longer pattern for every app beats the app's shorter one", app: "staging", command: "Live.CallbackAfterEndBattle",
			wantRoute: "live-after", wantBy: router.ByPrefix},
		{name: "the app's pattern beats the catch-all for every app", app: "staging", command: "Live.CallbackBeforeSomething",
			wantRoute: "staging-live", wantBy: router.ByPrefix, wantOwn: true},
		{name: "prod never sees staging's pattern", app: "prod", command: "Live.CallbackBeforeSomething",
			wantRoute: "default", wantBy: router.ByCatchAll},
		{name: "the app's catch-all beats the one for every app", app: "lab", command: "Group.CallbackBeforeSendMsg",
			wantRoute: "lab-all", wantBy: router.ByCatchAll, wantOwn: true, wantOver: "default"},
		{name: "staging's catch-all is the one for every app", app: "staging", command: "Group.CallbackBeforeSendMsg",
			wantRoute: "default", wantBy: router.ByCatchAll},
		{name: "an unknown app sees the routes for every app", command: "Live.CallbackBeforeSendGift",
			wantRoute: "gifts", wantBy: router.ByExact},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var app *router.App
			if tt.app != "" {
				if app = table.AppNamed(tt.app); app == nil {
					t.Fatalf("AppNamed(%q) = nil", tt.app)
				}
			}
			m := table.Lookup(app, tt.command)
			if got, want := m.Route.Name, tt.wantRoute; got != want {
				t.Errorf("Lookup(%s, %q) route: got %q, want %q", tt.app, tt.command, got, want)
			}
			if got, want := m.By, tt.wantBy; got != want {
				t.Errorf("Lookup(%s, %q) by: got %q, want %q", tt.app, tt.command, got, want)
			}
			if got, want := m.ForApp, tt.wantOwn; got != want {
				t.Errorf("Lookup(%s, %q) ForApp: got %v, want %v", tt.app, tt.command, got, want)
			}
			var over string
			if m.Over != nil {
				over = m.Over.Name
			}
			if got, want := over, tt.wantOver; got != want {
				t.Errorf("Lookup(%s, %q) Over: got %q, want %q", tt.app, tt.command, got, want)
			}
		})
	}
}

func TestAppRoutes(t *testing.T) {
	table := compile(t, byApp)
	tests := []struct{ app, want string }{
		{"prod", "gifts,live-after,default"},
		{"staging", "staging-gifts,staging-live,gifts,live-after,default"},
		{"lab", "staging-live,lab-all,gifts,live-after,default"},
	}
	for _, tt := range tests {
		var names []string
		for _, r := range table.AppNamed(tt.app).Routes(table) {
			names = append(names, r.Name)
		}
		if got := strings.Join(names, ","); got != tt.want {
			t.Errorf("%s routes: got %q, want %q", tt.app, got, tt.want)
		}
	}
}
