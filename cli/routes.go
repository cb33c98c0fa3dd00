package cli

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/router"
)

// routes prints the route table, or with -command the route a command takes and why.
// Upstream URLs are printed without their query, which may carry credentials.
func routes(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("routes", stderr)
	path := fs.String("config", "", "config file (default $CALLBACK_ROUTER_CONFIG or ./config.yaml)")
	command := fs.String("command", "", "show the route this CallbackCommand takes, and why")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	file := config.ResolvePath(*path)
	cfg, err := config.LoadFile(file)
	if err != nil {
		printProblems(stderr, file, err)
		return ExitError
	}
	t, err := router.Compile(cfg, router.Options{})
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitError
	}
	if *command != "" {
		fmt.Fprintln(stdout, explain(t, *command))
		return ExitOK
	}
	tw := tabwriter.NewWriter(stdout, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ROUTE\tCOMMANDS\tUPSTREAM\tMODE\tDEADLINE\tRETRIES\tFALLBACK\tMAX_IN_FLIGHT")
	for _, r := range t.Routes {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%d\t%s\t%d\n", r.Name, strings.Join(r.Commands, ","),
			upstreamText(r), mode(r), r.Deadline, r.Retries, verdictText(r.Fallback), r.MaxInFlight)
	}
	fmt.Fprintf(tw, "(no route)\t-\t-\t-\t-\t-\t%s\t-\n", verdictText(t.NoRoute.Fallback))
	tw.Flush()
	return ExitOK
}

// explain says which route a command takes and why.
func explain(t *router.Table, command string) string {
	m := t.Lookup(command)
	var why string
	switch m.By {
	case router.ByExact:
		why = fmt.Sprintf("exact match on %q", m.Pattern)
	case router.ByPrefix:
		why = fmt.Sprintf("longest matching pattern %q (no exact match)", m.Pattern)
	case router.ByCatchAll:
		why = `catch-all "*" (no exact match, no pattern)`
	default:
		return fmt.Sprintf("%s -> no route: answered with the defaults' fallback %s (X-Callback-Fallback: no_route)",
			command, verdictText(m.Route.Fallback))
	}
	r := m.Route
	target := "no upstream: answered from config with " + verdictText(r.Fallback) + " (X-Callback-Fallback: no_route)"
	if up := upstreamText(r); up != "-" {
		target = fmt.Sprintf("%s %s, deadline %s, retries %d, fallback %s", mode(r), up, r.Deadline, r.Retries, verdictText(r.Fallback))
	}
	return fmt.Sprintf("%s -> route %s: %s; %s", command, r.Name, why, target)
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
