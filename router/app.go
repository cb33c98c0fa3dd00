package router

import (
	"slices"
	"strconv"
	"sync/atomic"

	"github.com/callback-router/callback-router/config"
)

// App is a served Tencent app as the request path sees it: its label, the secrets that
// verify its callbacks, and the routes that admit it.
type App struct {
	// ID is the decimal SdkAppid; "" for the app of a single-app config that lists no
	// SdkAppid and so serves every one.
	ID string
	// Name labels the app in logs, metrics, /routes and the status page.
	Name string
	// Tokens verify the app's Chat and Live callbacks, in config order (tokens, then
	// tokens_file); a token's position labels sign_verified_total. Empty: served unsigned.
	Tokens []string
	// TokenLabels are the positions of Tokens as label values ("0", "1", …), spelled once.
	TokenLabels []string
	// TRTCKey verifies the app's TRTC room, media and recording events; "" when not set.
	TRTCKey string

	index   int // in Table.Apps
	matcher matcher
}

// Routes returns the routes that admit the app, in config order.
func (a *App) Routes(t *Table) []*Route {
	var out []*Route
	for _, r := range t.Routes {
		if r.Admits(a.Name) {
			out = append(out, r)
		}
	}
	return out
}

// compileApps builds the table's apps from the config's served apps (both config forms
// give the same shape), each with the matcher of the routes that admit it.
func (t *Table) compileApps(cfg *config.Config, patterns [][]string) {
	served := cfg.Tencent.ServedApps()
	for _, r := range t.Routes {
		r.appInFlight = make([]atomic.Int64, len(served))
	}
	for i, ca := range served {
		a := &App{Name: ca.Name, Tokens: ca.AllTokens(), TRTCKey: ca.Key(), index: i}
		if ca.SdkAppID != 0 {
			a.ID = strconv.FormatUint(ca.SdkAppID, 10)
		}
		for i := range a.Tokens {
			a.TokenLabels = append(a.TokenLabels, strconv.Itoa(i))
		}
		var entries []entry
		for i, r := range t.Routes {
			if !r.Admits(a.Name) {
				continue
			}
			for _, p := range patterns[i] {
				entries = append(entries, entry{pattern: p, route: r, forApp: len(r.Apps) > 0})
			}
		}
		a.matcher = newMatcher(entries, t.NoRoute)
		t.Apps = append(t.Apps, a)
		if a.ID == "" {
			t.anyApp = a
		} else {
			t.apps[a.ID] = a
		}
	}
}

// App returns the app a callback's SdkAppid belongs to, nil when it is not served. The
// SdkAppid is compared as the decimal string Tencent sends, without parsing.
func (t *Table) App(sdkAppID string) *App {
	if a, ok := t.apps[sdkAppID]; ok {
		return a
	}
	return t.anyApp
}

// AppNamed returns the app of that name, nil when there is none.
func (t *Table) AppNamed(name string) *App {
	i := slices.IndexFunc(t.Apps, func(a *App) bool { return a.Name == name })
	if i < 0 {
		return nil
	}
	return t.Apps[i]
}

// ServesAnyApp reports whether the config lists no SdkAppid, so every app is served.
func (t *Table) ServesAnyApp() bool { return t.anyApp != nil }
