package delivery

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
)

// OpenBoltOffline opens the store under dir to manage it while no router runs: what
// `queue` does then. It fails with ErrLocked within timeout when a router holds the file,
// and with ErrNoStore when dir holds none: managing a store never creates one, so a
// relative delivery.dir resolved from the wrong working directory (a systemd unit's is its
// state directory) says so instead of showing an empty queue.
func OpenBoltOffline(dir string, timeout time.Duration) (*BoltStore, error) {
	path := filepath.Join(dir, BoltFile)
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return nil, fmt.Errorf("%s: %w", path, ErrNoStore)
	}
	return OpenBoltStore(BoltOptions{Dir: dir, MaxItems: 1 << 62, MaxBytes: 1 << 62, OpenTimeout: timeout, noGroupCommit: true})
}

var _ Manager = (*BoltStore)(nil)

// Stats describes the store: its sizes after the last commit. (A Bolt backend adds its
// counters.)
func (s *BoltStore) Stats() Stats {
	return Stats{Backend: "bbolt", Pending: s.depth(), PendingBytes: s.pendingBytes(), Dead: s.deadCount(), Oldest: s.oldest()}
}

// States of a record, as `queue list` and `queue drop` name them.
const (
	StatePending = "pending"
	StateDead    = "dead"
)

func stateBucket(state string) ([]byte, error) {
	switch state {
	case StatePending:
		return bucketPending, nil
	case StateDead, "":
		return bucketDead, nil
	}
	return nil, fmt.Errorf("state %q is not %s or %s", state, StatePending, StateDead)
}

// List returns the records of a state that f selects, in arrival order, with their bodies
// and their queries with the Sign masked (maskForListing).
func (s *BoltStore) List(state string, f Filter) ([]*Record, error) {
	name, err := stateBucket(state)
	if err != nil {
		return nil, err
	}
	var out []*Record
	err = s.db.View(func(tx *bolt.Tx) error {
		out, err = selectRecords(tx.Bucket(name), &f, f.Limit)
		return err
	})
	for _, r := range out {
		r.maskForListing()
	}
	return out, err
}

// selectRecords decodes the records of b that f selects, in arrival order: at most limit
// of them when limit is positive.
func selectRecords(b *bolt.Bucket, f *Filter, limit int) ([]*Record, error) {
	var out []*Record
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		r, err := decodeRecord(v)
		if err != nil {
			return nil, err
		}
		if f.Match(r) {
			out = append(out, r)
			if limit > 0 && len(out) >= limit {
				break
			}
		}
	}
	return out, nil
}

// Replay moves the dead letters f selects back to the pending records, with their attempts
// reset and their max_age clock restarted. It is safe to run twice: a replayed record is no
// longer dead, and one whose delivery is already pending again (Tencent sent it anew) is
// dropped rather than doubled. It returns how many records are pending again.
func (s *BoltStore) Replay(f Filter) (int, error) {
	recs, err := s.replay(f, time.Now())
	return len(recs), err
}

// replay is Replay at now; it returns the records now pending (without bodies).
func (s *BoltStore) replay(f Filter, now time.Time) ([]*Record, error) {
	var replayed []*Record
	o := &op{}
	o.apply = func(tx *bolt.Tx, c *counts) error {
		replayed = replayed[:0]
		dead, pending, ids := tx.Bucket(bucketDead), tx.Bucket(bucketPending), tx.Bucket(bucketIDs)
		chosen, err := selectRecords(dead, &f, 0)
		if err != nil {
			return err
		}
		for _, r := range chosen {
			if err := dead.Delete(seqKey(r.Seq)); err != nil {
				return err
			}
			c.dead--
			if ids.Get(r.dedupKey()) != nil {
				continue
			}
			r.Attempts, r.NextAt, r.DeadAt, r.Replayed = 0, time.Time{}, time.Time{}, now
			n, err := putRecord(pending, r)
			if err != nil {
				return err
			}
			if err := ids.Put(r.dedupKey(), seqKey(r.Seq)); err != nil {
				return err
			}
			c.items++
			c.bytes += int64(n)
			replayed = append(replayed, r)
		}
		o.added = replayed
		return nil
	}
	err := s.do(o)
	for _, r := range replayed {
		r.Body = nil
	}
	return replayed, err
}

// Drop deletes the records of a state that f selects and returns how many. Dropping
// pending records gives up their delivery.
func (s *BoltStore) Drop(state string, f Filter) (int, error) {
	name, err := stateBucket(state)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.do(&op{apply: func(tx *bolt.Tx, c *counts) error {
		n = 0
		chosen, err := selectRecords(tx.Bucket(name), &f, 0)
		if err != nil {
			return err
		}
		for _, r := range chosen {
			if state == StatePending {
				if err := removePending(tx, r, c); err != nil {
					return err
				}
			} else {
				if err := tx.Bucket(bucketDead).Delete(seqKey(r.Seq)); err != nil {
					return err
				}
				c.dead--
			}
			n++
		}
		return nil
	}})
	return n, err
}
