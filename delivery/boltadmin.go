package delivery

import (
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

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
func (s *Bolt) List(state string, f Filter) ([]*Record, error) {
	name, err := stateBucket(state)
	if err != nil {
		return nil, err
	}
	var out []*Record
	errEnough := errors.New("enough")
	err = s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(name).ForEach(func(_, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			if f.Match(r) {
				out = append(out, r.maskForListing())
				if f.Limit > 0 && len(out) >= f.Limit {
					return errEnough
				}
			}
			return nil
		})
	})
	if errors.Is(err, errEnough) {
		err = nil
	}
	return out, err
}

// Replay moves the dead letters f selects back to the pending records, with their attempts
// reset and their max_age clock restarted. It is safe to run twice: a replayed record is no
// longer dead, and one whose delivery is already pending again (Tencent sent it anew) is
// dropped rather than doubled. It returns the records now pending (without bodies).
func (s *Bolt) Replay(f Filter, now time.Time) ([]*Record, error) {
	var replayed []*Record
	o := &op{}
	o.apply = func(tx *bolt.Tx, c *counts) error {
		replayed = replayed[:0]
		dead, pending, ids := tx.Bucket(bucketDead), tx.Bucket(bucketPending), tx.Bucket(bucketIDs)
		var chosen []*Record
		err := dead.ForEach(func(_, v []byte) error {
			r, err := decodeRecord(v)
			if err == nil && f.Match(r) {
				chosen = append(chosen, r)
			}
			return err
		})
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
func (s *Bolt) Drop(state string, f Filter) (int, error) {
	name, err := stateBucket(state)
	if err != nil {
		return 0, err
	}
	var n int
	err = s.do(&op{apply: func(tx *bolt.Tx, c *counts) error {
		n = 0
		var chosen []*Record
		err := tx.Bucket(name).ForEach(func(_, v []byte) error {
			r, err := decodeRecord(v)
			if err == nil && f.Match(r) {
				chosen = append(chosen, r)
			}
			return err
		})
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
