package delivery

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/callback-router/callback-router/config"
)

// Filter selects records for `queue list`, `replay` and `drop`. Zero fields match all; set
// fields must all match.
type Filter struct {
	Seqs    []uint64  // these record ids only
	EventID string    // this X-Callback-Event-Id
	Command string    // exact command, or a prefix ending in "*", ignoring case
	From    time.Time // arrived at or after
	To      time.Time // arrived before
	Limit   int       // at most this many (list only); 0 means no limit
	// All says that selecting every record is meant: replay and drop refuse a filter that
	// selects nothing in particular unless it is set, so that a forgotten filter (or a bare
	// state=pending) never empties the store.
	All bool
}

// Selects reports whether some field narrows the selection (Limit does not: it only bounds
// a listing).
func (f *Filter) Selects() bool {
	return len(f.Seqs) > 0 || f.EventID != "" || f.Command != "" || !f.From.IsZero() || !f.To.IsZero()
}

// FilterNames lists the parameters that narrow a selection, for messages that ask for one.
const FilterNames = "id, event, command, from, to"

// Match reports whether r is selected.
func (f *Filter) Match(r *Record) bool {
	if len(f.Seqs) > 0 && !slices.Contains(f.Seqs, r.Seq) {
		return false
	}
	if f.EventID != "" && f.EventID != r.EventID {
		return false
	}
	if f.Command != "" && !config.MatchCommand(f.Command, r.Command) {
		return false
	}
	if !f.From.IsZero() && r.Received.Before(f.From) {
		return false
	}
	if !f.To.IsZero() && !r.Received.Before(f.To) {
		return false
	}
	return true
}

// Values encodes f as URL query parameters, for the admin listener.
func (f Filter) Values() url.Values {
	v := url.Values{}
	for _, s := range f.Seqs {
		v.Add("id", strconv.FormatUint(s, 10))
	}
	set := func(k, s string) {
		if s != "" {
			v.Set(k, s)
		}
	}
	set("event", f.EventID)
	set("command", f.Command)
	if !f.From.IsZero() {
		v.Set("from", f.From.Format(time.RFC3339Nano))
	}
	if !f.To.IsZero() {
		v.Set("to", f.To.Format(time.RFC3339Nano))
	}
	if f.Limit > 0 {
		v.Set("limit", strconv.Itoa(f.Limit))
	}
	if f.All {
		v.Set("all", "true")
	}
	return v
}

// ParseFilter decodes the parameters Values writes; ids may also come comma-separated.
func ParseFilter(v url.Values) (Filter, error) {
	f := Filter{EventID: v.Get("event"), Command: v.Get("command")}
	for _, raw := range v["id"] {
		for _, s := range strings.Split(raw, ",") {
			if s = strings.TrimSpace(s); s == "" {
				continue
			}
			n, err := strconv.ParseUint(s, 10, 64)
			if err != nil {
				return f, fmt.Errorf("id %q is not a record id (a number from queue list)", s)
			}
			f.Seqs = append(f.Seqs, n)
		}
	}
	var err error
	if f.From, err = parseTime("from", v.Get("from")); err != nil {
		return f, err
	}
	if f.To, err = parseTime("to", v.Get("to")); err != nil {
		return f, err
	}
	if s := v.Get("limit"); s != "" {
		if f.Limit, err = strconv.Atoi(s); err != nil || f.Limit < 0 {
			return f, fmt.Errorf("limit %q is not a count", s)
		}
	}
	if s := v.Get("all"); s != "" {
		if f.All, err = strconv.ParseBool(s); err != nil {
			return f, fmt.Errorf("all %q is neither true nor false", s)
		}
	}
	return f, nil
}

// parseTime reads RFC 3339 (2026-11-27T03:00:00Z) or a duration back from now (90m).
func parseTime(name, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	if d, err := time.ParseDuration(s); err == nil && d >= 0 {
		return time.Now().Add(-d), nil
	}
	return time.Time{}, fmt.Errorf("%s %q is neither an RFC 3339 time (2026-11-27T03:00:00Z) nor a duration back from now (90m)", name, s)
}
