package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/tencent"
)

// routes prints the route table, or with -command the route a command takes and why.
// Upstream URLs are printed without their query, which may carry credentials.
func routes(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("routes", stderr)
	path := configFlag(fs)
	command := fs.String("command", "", "show the route this CallbackCommand takes, and why")
	app := fs.String("app", "", "with -command: the app (its name or SdkAppid) whose callback it is (default: each app in turn)")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	cfg, _ := loadConfig(*path, stderr)
	if cfg == nil {
		return ExitError
	}
	t, err := router.Compile(cfg, router.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	if *app != "" && *command == "" {
		fmt.Fprintln(stderr, "routes: -app needs -command")
		return ExitUsage
	}
	if *command != "" {
		apps := t.Apps
		if *app != "" {
			a := findApp(t, *app)
			if a == nil {
				fmt.Fprintf(stderr, "routes: no app %q is served (apps: %s)\n", *app, strings.Join(appNames(t.Apps), ", "))
				return ExitUsage
			}
			apps = []*router.App{a}
		}
		for _, a := range apps {
			fmt.Fprintln(stdout, explain(t, a, *command))
		}
		return ExitOK
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tAPPS\tCOMMANDS\tUPSTREAM\tMODE\tDEADLINE\tRETRIES\tFALLBACK\tMAX_IN_FLIGHT")
	for _, r := range t.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\n", r.Name, appsText(r), strings.Join(r.Commands, ","),
			upstreamText(r), mode(r), r.Deadline, r.Retries, verdictText(r.Fallback), r.MaxInFlight)
	}
	fmt.Fprintf(tw, "(no route)\t*\t-\t-\t-\t-\t-\t%s\t-\n", verdictText(t.NoRoute.Fallback))
	tw.Flush()
	return ExitOK
}

// findApp finds a served app by name, else by SdkAppid.
func findApp(t *router.Table, nameOrID string) *router.App {
	if a := t.AppNamed(nameOrID); a != nil {
		return a
	}
	return t.App(nameOrID)
}

// explain says which route a command of the app takes and why; for a TRTC event, also how
// the router answers it.
func explain(t *router.Table, app *router.App, command string) string {
	s := explainRoute(t, app, command)
	if tencent.IsTRTCCommand(command) {
		s += fmt.Sprintf("; a TRTC event: the router's own answers (async, fallbacks) are %s, within %s", tencent.TRTCAnswer, t.Lookup(app, command).Route.Window)
	}
	return s
}

func explainRoute(t *router.Table, app *router.App, command string) string {
	m := t.Lookup(app, command)
	var why string
	switch m.By {
	case router.ByExact:
		why = fmt.Sprintf("exact match on %q", m.Pattern)
	case router.ByPrefix:
		why = fmt.Sprintf("longest matching pattern %q (no exact match)", m.Pattern)
	case router.ByCatchAll:
		why = `catch-all "*" (no exact match, no pattern)`
	default:
		return fmt.Sprintf("%s (app %s) -> no route: answered with the defaults' fallback %s (X-Callback-Fallback: no_route)",
			command, app.Name, verdictText(m.Route.Fallback))
	}
	switch {
	case m.Over != nil:
		why += fmt.Sprintf(", in a route naming app %s, which beats route %s (for every app) with the same pattern", app.Name, m.Over.Name)
	case m.ForApp:
		why += fmt.Sprintf(", in a route naming app %s", app.Name)
	}
	r := m.Route
	target := "no upstream: answered from config with " + verdictText(r.Fallback) + " (X-Callback-Fallback: no_route)"
	if up := upstreamText(r); up != "-" {
		target = fmt.Sprintf("%s %s, deadline %s, retries %d, fallback %s", mode(r), up, r.Deadline, r.Retries, verdictText(r.Fallback))
	}
	return fmt.Sprintf("%s (app %s) -> route %s: %s; %s", command, app.Name, r.Name, why, target)
}

// appsText lists the apps a route admits, "*" for every app.
func appsText(r *router.Route) string {
	if len(r.Apps) == 0 {
		return "*"
	}
	return strings.Join(r.Apps, ",")
}

func appNames(apps []*router.App) []string {
	out := make([]string, 0, len(apps))
	for _, a := range apps {
		out = append(out, a.Name)
	}
	return out
}

// mode says how a route answers: sync or async, with "+ordered" for an async route that
// keeps each room's order and "+journal" for a sync route that journals its fallbacks.
func mode(r *router.Route) string {
	switch {
	case r.Async && r.Ordered:
		return "async+ordered"
	case r.Async:
		return "async"
	case r.Journal:
		return "sync+journal"
	}
	return "sync"
}

func verdictText(v router.Verdict) string {
	if v.Allow {
		return "allow"
	}
	s := fmt.Sprintf("deny(%d", v.ErrorCode)
	if v.ErrorInfo != "" {
		s += fmt.Sprintf(" %q", v.ErrorInfo)
	}
	return s + ")"
}

func upstreamText(r *router.Route) string {
	if len(r.Upstreams) == 0 {
		return "-"
	}
	var parts []string
	for _, up := range r.Upstreams {
		var urls []string
		for _, s := range up.States() {
			urls = append(urls, s.URL)
		}
		parts = append(parts, up.Name()+"="+strings.Join(urls, "|"))
	}
	return strings.Join(parts, ",")
}
