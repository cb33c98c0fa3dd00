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
}

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
