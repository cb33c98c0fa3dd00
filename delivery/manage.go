package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Manager reads and manages the pending and dead-lettered callbacks of a store: what the
// `queue` command and the admin listener's /queue paths do.
type Manager interface {
	Stats() Stats
	// List returns the records of a state (pending or dead) that f selects, oldest first.
	List(state string, f Filter) ([]*Record, error)
	// Replay moves the dead letters f selects back to delivery; running it twice replays
	// nothing the second time.
	Replay(f Filter) (int, error)
	// Drop deletes the records of a state that f selects.
	Drop(state string, f Filter) (int, error)
}

var (
	_ Manager = (*Durable)(nil)
	_ Manager = (*OfflineBolt)(nil)
)

// List returns records of the running store.
func (d *Durable) List(state string, f Filter) ([]*Record, error) { return d.store.List(state, f) }

// Drop deletes records of the running store; a pending one being attempted now may still
// be delivered once.
func (d *Durable) Drop(state string, f Filter) (int, error) { return d.store.Drop(state, f) }

// OfflineBolt manages a bbolt store no router has open.
type OfflineBolt struct{ *Bolt }

// OpenOfflineBolt opens the store under dir for management; it fails with ErrLocked
// within timeout when a router holds it, and with ErrNoStore when dir holds none: managing
// a store never creates one, so a relative delivery.dir resolved from the wrong working
// directory (a systemd unit's is its state directory) says so instead of showing an empty
// queue.
func OpenOfflineBolt(dir string, timeout time.Duration) (*OfflineBolt, error) {
	path := filepath.Join(dir, BoltFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return nil, fmt.Errorf("%s: %w", path, ErrNoStore)
	}
	s, err := OpenBolt(BoltOptions{Dir: dir, MaxItems: 1 << 62, MaxBytes: 1 << 62, OpenTimeout: timeout, NoGroupCommit: true})
	if err != nil {
		return nil, err
	}
	return &OfflineBolt{s}, nil
}

// Stats describes the store.
func (o *OfflineBolt) Stats() Stats {
	return Stats{Backend: "bbolt", Pending: o.Depth(), PendingBytes: o.PendingBytes(), Dead: o.DeadCount(), Oldest: o.Oldest()}
}

// Replay moves dead letters back to pending; the next start delivers them.
func (o *OfflineBolt) Replay(f Filter) (int, error) {
	recs, err := o.Bolt.Replay(f, time.Now())
	return len(recs), err
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
