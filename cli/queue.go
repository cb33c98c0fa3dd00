package cli

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
)

// queueUsage is the queue command's help.
const queueUsage = `Usage: callback-router queue stats|list|replay|drop [-config F] [filters]

  stats    pending and dead-lettered callbacks, bytes, the oldest waiting
  list     the records a filter selects (-state dead by default)
  replay   move the dead letters a filter selects back to delivery; safe to run twice
  drop     delete the records a filter selects (-state dead by default)

Filters: -id 12,13  -event EVENT_ID  -command Live.CallbackAfter*  -from 2026-11-27T03:00:00Z|90m  -to …
replay and drop need a filter or -all.

With the router running, the command goes through its admin listener (server.admin_listen),
since the router holds the store's file locked; with the router stopped, it opens the file.
`

// queueCmd manages the delivery store's pending and dead-lettered callbacks.
func queueCmd(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || strings.HasPrefix(args[0], "-") {
		fmt.Fprint(stderr, queueUsage)
		return ExitUsage
	}
	action := args[0]
	switch action {
	case "stats", "list", "replay", "drop":
	default:
		fmt.Fprintf(stderr, "callback-router queue: unknown action %q\n\n%s", action, queueUsage)
		return ExitUsage
	}
	fs := newFlagSet("queue "+action, stderr)
	path := configFlag(fs)
	state := fs.String("state", delivery.StateDead, "pending or dead (list and drop)")
	all := fs.Bool("all", false, "replay or drop every record of the state")
	asJSON := fs.Bool("json", false, "list: print JSON records, bodies included")
	var fv filterFlags
	fv.register(fs)
	if code, ok := parseFlags(fs, args[1:], 0); !ok {
		return code
	}
	f, err := delivery.ParseFilter(fv.values())
	if err != nil {
		fmt.Fprintf(stderr, "callback-router queue: %v\n", err)
		return ExitUsage
	}
	if (action == "replay" || action == "drop") && !*all && !f.Selects() {
		fmt.Fprintf(stderr, "callback-router queue %s: give a filter (-id, -event, -command, -from, -to) or -all\n", action)
		return ExitUsage
	}
	// Passed on to a running router, whose admin listener refuses an unfiltered change
	// without it.
	f.All = *all
	cfg, _ := loadConfig(*path, stderr)
	if cfg == nil {
		return ExitError
	}
	m, closeM, err := queueManager(cfg)
	if err != nil {
		fmt.Fprintf(stderr, "callback-router queue: %v\n", err)
		return ExitError
	}
	defer closeM()
	if err := runQueue(m, action, *state, f, *asJSON, stdout); err != nil {
		fmt.Fprintf(stderr, "callback-router queue %s: %v\n", action, err)
		return ExitError
	}
	return ExitOK
}

func runQueue(m delivery.Manager, action, state string, f delivery.Filter, asJSON bool, out io.Writer) error {
	switch action {
	case "stats":
		if a, remote := m.(*adminQueue); remote {
			st, err := a.statsOrError()
			if err != nil {
				return err
			}
			return printJSON(out, st)
		}
		return printJSON(out, m.Stats())
	case "list":
		recs, err := m.List(state, f)
		if err != nil {
			return err
		}
		if asJSON {
			return printJSON(out, recs)
		}
		printRecords(out, state, recs)
	case "replay":
		n, err := m.Replay(f)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "replayed %d dead-lettered callback(s)\n", n)
	case "drop":
		n, err := m.Drop(state, f)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "dropped %d %s callback(s)\n", n, state)
	}
	return nil
}

func printJSON(out io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(out, "%s\n", b)
	return err
}

func printRecords(out io.Writer, state string, recs []*delivery.Record) {
	tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tRECEIVED\tAPP\tCOMMAND\tUPSTREAM\tATTEMPTS\tVERDICT\tEVENT_ID\tLAST_ERROR")
	for _, r := range recs {
		verdict, app := r.Verdict, r.App
		if verdict == "" {
			verdict = "-"
		}
		if app == "" {
			app = "-" // stored before apps were recorded
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%d\t%s\t%s\t%s\n", r.Seq, r.Received.UTC().Format(time.RFC3339), app, r.Command,
			r.Upstream, r.Attempts, verdict, r.EventID, r.LastError)
	}
	tw.Flush()
	fmt.Fprintf(out, "%d %s record(s)\n", len(recs), state)
}

// queueManager opens the store directly when no router holds it, else talks to the
// running router's admin listener.
func queueManager(cfg *config.Config) (delivery.Manager, func(), error) {
	if cfg.Delivery.Backend == config.BackendJetStream {
		// The streams are shared: manage them directly, without pulling deliveries.
		q, err := openQueue(cfg, zerolog.Nop(), nil)
		if err != nil {
			return nil, nil, err
		}
		return q.(delivery.Manager), func() { q.Close(context.Background()) }, nil
	}
	if cfg.Delivery.Backend == config.BackendBolt {
		s, err := delivery.OpenBoltOffline(cfg.Delivery.Dir, storeOpenTimeout)
		if err == nil {
			return s, func() { s.Close() }, nil
		}
		if !errors.Is(err, delivery.ErrLocked) {
			return nil, nil, fmt.Errorf("delivery.dir: %w", err)
		}
	}
	if cfg.Server.AdminListen == "" {
		return nil, nil, errors.New("the delivery store is held by a running router and server.admin_listen is empty: stop the router, or enable its admin listener")
	}
	return &adminQueue{base: adminURL(cfg.Server.AdminListen), client: &http.Client{Timeout: 30 * time.Second},
		token: cfg.Server.AdminToken}, func() {}, nil
}

// adminURL turns a listen address into a URL to reach it: an unspecified host is this one.
func adminURL(listen string) string {
	host, port, _ := net.SplitHostPort(listen)
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return "http://" + net.JoinHostPort(host, port)
}

// filterFlags are the command-line spelling of a delivery.Filter.
type filterFlags struct{ id, event, command, from, to, limit string }

func (v *filterFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&v.id, "id", "", "record ids, comma-separated (the ID column of list)")
	fs.StringVar(&v.event, "event", "", "an X-Callback-Event-Id")
	fs.StringVar(&v.command, "command", "", "a command, or a prefix ending in *")
	fs.StringVar(&v.from, "from", "", "arrived at or after: RFC 3339 time, or a duration back from now (90m)")
	fs.StringVar(&v.to, "to", "", "arrived before: RFC 3339 time, or a duration back from now")
	fs.StringVar(&v.limit, "limit", "", "list at most this many")
}

func (v *filterFlags) values() map[string][]string {
	out := map[string][]string{}
	for k, s := range map[string]string{"id": v.id, "event": v.event, "command": v.command, "from": v.from, "to": v.to, "limit": v.limit} {
		if s != "" {
			out[k] = []string{s}
		}
	}
	return out
}
