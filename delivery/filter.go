package delivery

import (
	"slices"
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
