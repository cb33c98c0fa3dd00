package admin

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/callback-router/callback-router/router"
)

// routeView is a route as /routes shows it: its policy, never a secret (tokens are not part
// of a route, and upstream URLs are shown without query or credentials).
type routeView struct {
	Name     string   `json:"name"`
	Commands []string `json:"commands"`
	// Apps are the apps the route admits; empty admits every app.
	Apps             []string     `json:"apps"`
	Upstreams        []string     `json:"upstreams"`
	Async            bool         `json:"async"`
	Ordered          bool         `json:"ordered"`
	Journal          bool         `json:"journal"`
	DeadlineMs       int64        `json:"deadline_ms"`
	Retries          int          `json:"retries"`
	AttemptTimeoutMs int64        `json:"attempt_timeout_ms"`
	RetryOn          []int        `json:"retry_on"`
	MaxInFlight      int64        `json:"max_in_flight"`
	InFlight         int64        `json:"in_flight"`
	Fallback         fallbackView `json:"fallback"`
	Shadow           *shadowView  `json:"shadow,omitempty"`
}

// shadowView is a route's shadow: the candidate, its share and its mirrors in flight.
type shadowView struct {
	Upstream    string  `json:"upstream"`
	Percent     float64 `json:"percent"`
	MaxInFlight int64   `json:"max_in_flight,omitempty"` // synchronous routes only
	InFlight    int64   `json:"in_flight"`
}

type fallbackView struct {
	Action    string `json:"action"`
	ErrorCode int64  `json:"error_code"`
	ErrorInfo string `json:"error_info"`
}

type upstreamView struct {
	Name      string         `json:"name"`
	Instances []instanceView `json:"instances"`
}

type instanceView struct {
	URL     string `json:"url"`
	Breaker string `json:"breaker"` // closed | half-open | open
}

// appView is a served app as /routes shows it: how many tokens it has and whether a TRTC key
// is set, never the secrets themselves.
type appView struct {
	Name string `json:"name"`
	// SdkAppID is "" for the app of a single-app config listing no SdkAppid: it serves any.
	SdkAppID string `json:"sdk_app_id"`
	Tokens   int    `json:"tokens"`
	TRTCKey  bool   `json:"trtc_key"`
	// Routes are the routes that admit the app, in config order.
	Routes []string `json:"routes"`
}

// tableView is the whole route table as /routes shows it.
type tableView struct {
	LoadedAt  time.Time      `json:"loaded_at"`
	Path      string         `json:"path"`
	Apps      []appView      `json:"apps"`
	Routes    []routeView    `json:"routes"`
	NoRoute   routeView      `json:"no_route"`
	Upstreams []upstreamView `json:"upstreams"`
}

func viewRoute(r *router.Route) routeView {
	v := routeView{
		Name: r.Name, Commands: r.Commands, Apps: r.Apps, Async: r.Async, Ordered: r.Ordered, Journal: r.Journal, Upstreams: []string{},
		DeadlineMs: r.Deadline.Milliseconds(), Retries: r.Retries, AttemptTimeoutMs: r.AttemptTimeout.Milliseconds(),
		RetryOn: r.RetryOn, MaxInFlight: r.MaxInFlight, InFlight: r.InFlight(),
		Fallback: fallbackView{Action: r.Fallback.Action(), ErrorCode: r.Fallback.ErrorCode, ErrorInfo: r.Fallback.ErrorInfo},
	}
	if v.Commands == nil {
		v.Commands = []string{}
	}
	if v.Apps == nil {
		v.Apps = []string{}
	}
	for _, up := range r.Upstreams {
		v.Upstreams = append(v.Upstreams, up.Name())
	}
	if sh := r.Shadow; sh != nil {
		v.Shadow = &shadowView{Upstream: sh.Upstream.Name(), Percent: sh.Percent, InFlight: sh.InFlight()}
		if !r.Async {
			v.Shadow.MaxInFlight = sh.MaxInFlight
		}
	}
	return v
}

// viewUpstreams lists the upstreams by name with each instance's breaker state. It reads the
// breakers, so it must never run inside a breaker's state-change callback.
func viewUpstreams(t *router.Table) []upstreamView {
	out := make([]upstreamView, 0, len(t.Upstreams))
	for name, up := range t.Upstreams {
		v := upstreamView{Name: name}
		for _, s := range up.States() {
			v.Instances = append(v.Instances, instanceView{URL: s.URL, Breaker: s.State.String()})
		}
		out = append(out, v)
	}
	slices.SortFunc(out, func(a, b upstreamView) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// viewApps lists the served apps in config order.
func viewApps(t *router.Table) []appView {
	out := make([]appView, 0, len(t.Apps))
	for _, a := range t.Apps {
		v := appView{Name: a.Name, SdkAppID: a.ID, Tokens: len(a.Tokens), TRTCKey: a.TRTCKey != "", Routes: []string{}}
		for _, r := range a.Routes(t) {
			v.Routes = append(v.Routes, r.Name)
		}
		out = append(out, v)
	}
	return out
}

func viewTable(t *router.Table) tableView {
	v := tableView{LoadedAt: t.LoadedAt, Path: t.Path, Apps: viewApps(t), NoRoute: viewRoute(t.NoRoute), Upstreams: viewUpstreams(t)}
	for _, r := range t.Routes {
		v.Routes = append(v.Routes, viewRoute(r))
	}
	return v
}

// routes serves the running route table as JSON.
func (s *Server) routes(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, viewTable(s.opts.Table()))
}

func writeJSON(w http.ResponseWriter, v any) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(append(b, '\n'))
}
