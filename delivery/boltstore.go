package delivery

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
)

// BoltFile is the store's file name under delivery.dir.
const BoltFile = "deliveries.db"

// Buckets of the bbolt file.
var (
	bucketPending = []byte("pending") // seq -> Record: waiting or being attempted
	bucketDead    = []byte("dead")    // seq -> Record: given up, kept until replayed or dropped
	bucketIDs     = []byte("ids")     // event id + upstream -> seq of its pending record
)

// Errors of a store.
var (
	// ErrFull refuses an append past delivery.max_items or delivery.max_bytes.
	ErrFull = errors.New("delivery store is full")
	// ErrNotFound is a record that is no longer there (delivered, dropped).
	ErrNotFound = errors.New("no such record")
	// ErrClosed refuses work after Close.
	ErrClosed = errors.New("delivery store is closed")
	// ErrLocked is a store another process (a running router) holds open.
	ErrLocked = errors.New("the delivery store is in use by another process (a running router holds it locked)")
	// ErrNoStore is a directory without a store, which managing it does not create.
	ErrNoStore = errors.New("no delivery store here (a relative delivery.dir is resolved from the working directory: run the command from the router's)")
)

// BoltOptions configures a BoltStore.
type BoltOptions struct {
	Dir      string
	MaxItems int
	MaxBytes int64
	// OpenTimeout bounds the wait for the file lock that a running router holds; a second
	// by default.
	OpenTimeout time.Duration

	// noGroupCommit commits each operation in its own transaction, one fsync each, instead
	// of gathering the operations that arrive during a commit into the next one: for
	// management, which has no concurrent producers, and to measure what group commit buys
	// (BenchmarkEnqueue).
	noGroupCommit bool
	// onCommit, if set, is given the records each commit appended, in store order, before
	// their producers are answered: the Bolt backend's scheduler learns of them in arrival
	// order.
	onCommit func(added []*Record)
}

// defaultOpenTimeout is BoltOptions.OpenTimeout when it is not set.
const defaultOpenTimeout = time.Second

// maxBatch bounds the operations of one group commit, so that one transaction stays short.
const maxBatch = 4096

// BoltStore is the bbolt file under a Bolt backend: the pending deliveries and the dead
// letters. Appends are fsynced before they return; with group commit (the default) the
// appends of concurrent producers share one transaction and one fsync, which is what lets
// one disk take tens of thousands of callbacks a second. bbolt locks the file: one process
// at a time.
type BoltStore struct {
	db   *bolt.DB
	opts BoltOptions
	ops  chan *op

	closeMu sync.RWMutex // held for writing by Close; senders on ops hold it for reading
	closed  bool
	done    chan struct{} // the committer has exited

	mu  sync.Mutex // serializes commits and guards cnt
	cnt counts

	// Published after each commit, for readers that must not wait for one.
	items, bytes, dead atomic.Int64
}

// counts are the store's sizes; a commit works on a copy and publishes it on success.
type counts struct{ items, bytes, dead int64 }

// op is one operation; apply runs inside the commit's transaction. An op that refuses
// (ErrFull) must do so before it writes anything, so the others of the batch can commit.
type op struct {
	apply func(tx *bolt.Tx, c *counts) error
	added []*Record // appended by apply, for onCommit
	err   error
	done  chan struct{}
}

// OpenBoltStore opens (creating if needed) the store under opts.Dir.
func OpenBoltStore(opts BoltOptions) (*BoltStore, error) {
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("delivery.dir: %w", err)
	}
	if opts.OpenTimeout <= 0 {
		opts.OpenTimeout = defaultOpenTimeout
	}
	path := filepath.Join(opts.Dir, BoltFile)
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: opts.OpenTimeout, FreelistType: bolt.FreelistMapType})
	if errors.Is(err, bolt.ErrTimeout) {
		return nil, fmt.Errorf("%s: %w", path, ErrLocked)
	}
	if err != nil {
		return nil, fmt.Errorf("delivery store %s: %w", path, err)
	}
	s := &BoltStore{db: db, opts: opts, ops: make(chan *op, maxBatch), done: make(chan struct{})}
	if err := s.init(); err != nil {
		db.Close()
		return nil, fmt.Errorf("delivery store %s: %w", path, err)
	}
	if opts.noGroupCommit {
		close(s.done)
	} else {
		go s.commitLoop()
	}
	return s, nil
}

// init creates the buckets and counts what the file holds.
func (s *BoltStore) init() error {
	return s.db.Update(func(tx *bolt.Tx) error {
		for _, name := range [][]byte{bucketPending, bucketDead, bucketIDs} {
			if _, err := tx.CreateBucketIfNotExists(name); err != nil {
				return err
			}
		}
		c := counts{dead: int64(tx.Bucket(bucketDead).Stats().KeyN)}
		err := tx.Bucket(bucketPending).ForEach(func(_, v []byte) error {
			c.items++
			c.bytes += int64(len(v))
			return nil
		})
		s.publish(c)
		return err
	})
}

func (s *BoltStore) publish(c counts) {
	s.cnt = c
	s.items.Store(c.items)
	s.bytes.Store(c.bytes)
	s.dead.Store(c.dead)
}

// Close waits for the commits under way and closes the file.
func (s *BoltStore) Close() error {
	s.closeMu.Lock()
	if s.closed {
		s.closeMu.Unlock()
		return nil
	}
	s.closed = true
	if !s.opts.noGroupCommit {
		close(s.ops)
	}
	s.closeMu.Unlock()
	<-s.done
	return s.db.Close()
}

// do runs o durably: through the group committer, or in its own transaction.
func (s *BoltStore) do(o *op) error { return s.doUntil(context.Background(), o) }

// doUntil is do that stops waiting when ctx ends, and then returns ctx's error. An operation
// handed to the group committer by then is still committed (and told to onCommit): the
// caller only learns too late whether it was, so it must treat it as maybe stored.
func (s *BoltStore) doUntil(ctx context.Context, o *op) error {
	s.closeMu.RLock()
	if s.closed {
		s.closeMu.RUnlock()
		return ErrClosed
	}
	if s.opts.noGroupCommit {
		s.closeMu.RUnlock()
		s.commit([]*op{o})
		return o.err
	}
	o.done = make(chan struct{})
	select {
	case s.ops <- o:
	case <-ctx.Done():
		s.closeMu.RUnlock()
		return ctx.Err()
	}
	s.closeMu.RUnlock()
	select {
	case <-o.done:
		return o.err
	case <-ctx.Done():
		return ctx.Err()
	}
}

// commitLoop is the group committer: it takes the operations that queued while the last
// commit was under way and commits them in one transaction. A lone producer pays one fsync
// per append, as without grouping; many producers share each fsync.
func (s *BoltStore) commitLoop() {
	defer close(s.done)
	batch := make([]*op, 0, maxBatch)
	for first := range s.ops {
		batch = append(batch[:0], first)
	gather:
		for len(batch) < maxBatch {
			select {
			case o, ok := <-s.ops:
				if !ok {
					break gather
				}
				batch = append(batch, o)
			default:
				break gather
			}
		}
		s.commit(batch)
		for _, o := range batch {
			close(o.done)
		}
	}
}

// commit applies the batch in one transaction. An op's refusal fails that op alone; any
// other error rolls back the transaction and fails them all.
func (s *BoltStore) commit(batch []*op) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.cnt
	err := s.db.Update(func(tx *bolt.Tx) error {
		for _, o := range batch {
			if o.err = o.apply(tx, &c); o.err != nil && !errors.Is(o.err, ErrFull) && !errors.Is(o.err, ErrNotFound) {
				return o.err
			}
		}
		return nil
	})
	if err != nil {
		for _, o := range batch {
			o.err, o.added = err, nil
		}
		return
	}
	s.publish(c)
	if s.opts.onCommit != nil {
		for _, o := range batch {
			if o.err == nil && len(o.added) > 0 {
				s.opts.onCommit(o.added)
			}
		}
	}
}

func seqKey(seq uint64) []byte {
	var k [8]byte
	binary.BigEndian.PutUint64(k[:], seq)
	return k[:]
}

// Append stores the records durably, all or none, assigning their Seq. A record whose
// (EventID, Upstream) is already pending is not stored again: Tencent may send an
// after-callback twice, and one pending delivery serves both. It returns the records
// actually added.
func (s *BoltStore) Append(ctx context.Context, recs []*Record) ([]*Record, error) {
	o := &op{}
	o.apply = func(tx *bolt.Tx, c *counts) error {
		pending, ids := tx.Bucket(bucketPending), tx.Bucket(bucketIDs)
		var fresh []*Record
		var size int64
		for _, r := range recs {
			if ids.Get(r.dedupKey()) != nil {
				continue
			}
			fresh = append(fresh, r)
			size += r.size()
		}
		if c.items+int64(len(fresh)) > int64(s.opts.MaxItems) || c.bytes+size > s.opts.MaxBytes {
			return ErrFull
		}
		for _, r := range fresh {
			seq, err := pending.NextSequence()
			if err != nil {
				return err
			}
			r.Seq = seq
			n, err := putRecord(pending, r)
			if err != nil {
				return err
			}
			if err := ids.Put(r.dedupKey(), seqKey(seq)); err != nil {
				return err
			}
			c.items++
			c.bytes += int64(n)
		}
		o.added = fresh
		return nil
	}
	if err := s.doUntil(ctx, o); err != nil {
		return nil, err // o.added is the committer's until o is done
	}
	return o.added, nil
}

// putRecord stores r under its seq and returns the stored size, which is what a pending
// record counts against delivery.max_bytes.
func putRecord(b *bolt.Bucket, r *Record) (int, error) {
	v, err := r.encode()
	if err != nil {
		return 0, err
	}
	return len(v), b.Put(seqKey(r.Seq), v)
}

// ack removes a delivered record. It need not reach the disk before the next delivery:
// should a crash lose it, the record is delivered again, which at-least-once allows.
func (s *BoltStore) ack(r *Record) error {
	return s.do(&op{apply: func(tx *bolt.Tx, c *counts) error {
		return removePending(tx, r, c)
	}})
}

// removePending deletes r from the pending records and the id index.
func removePending(tx *bolt.Tx, r *Record, c *counts) error {
	pending := tx.Bucket(bucketPending)
	v := pending.Get(seqKey(r.Seq))
	if v == nil {
		return ErrNotFound
	}
	size := int64(len(v))
	if err := pending.Delete(seqKey(r.Seq)); err != nil {
		return err
	}
	ids := tx.Bucket(bucketIDs)
	if v := ids.Get(r.dedupKey()); v != nil && binary.BigEndian.Uint64(v) == r.Seq {
		if err := ids.Delete(r.dedupKey()); err != nil {
			return err
		}
	}
	c.items--
	c.bytes -= size
	return nil
}

// retry records a failed attempt: the attempt count, when to try next and the error, so
// that `queue list` shows them and a restart keeps the backoff.
func (s *BoltStore) retry(r *Record) error {
	return s.do(&op{apply: func(tx *bolt.Tx, c *counts) error {
		pending := tx.Bucket(bucketPending)
		old := pending.Get(seqKey(r.Seq))
		if old == nil {
			return ErrNotFound
		}
		full, err := decodeRecord(old)
		if err != nil {
			return err
		}
		full.Attempts, full.NextAt, full.LastError = r.Attempts, r.NextAt, r.LastError
		n, err := putRecord(pending, full)
		c.bytes += int64(n - len(old))
		return err
	}})
}

// Bury moves a pending record to the dead letters, with the attempts, last error and
// death time r carries.
func (s *BoltStore) Bury(r *Record) error {
	return s.do(&op{apply: func(tx *bolt.Tx, c *counts) error {
		full, err := getRecord(tx.Bucket(bucketPending), r.Seq)
		if err != nil {
			return err
		}
		full.Attempts, full.LastError, full.DeadAt, full.NextAt = r.Attempts, r.LastError, r.DeadAt, time.Time{}
		if err := removePending(tx, full, c); err != nil {
			return err
		}
		c.dead++
		_, err = putRecord(tx.Bucket(bucketDead), full)
		return err
	}})
}

func getRecord(b *bolt.Bucket, seq uint64) (*Record, error) {
	v := b.Get(seqKey(seq))
	if v == nil {
		return nil, ErrNotFound
	}
	return decodeRecord(v)
}

// load returns the pending record seq with its body.
func (s *BoltStore) load(seq uint64) (*Record, error) {
	var r *Record
	err := s.db.View(func(tx *bolt.Tx) error {
		var err error
		r, err = getRecord(tx.Bucket(bucketPending), seq)
		return err
	})
	return r, err
}

// pending calls fn with every pending record, in arrival order, without its body.
func (s *BoltStore) pending(fn func(*Record)) error {
	return s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketPending).ForEach(func(_, v []byte) error {
			r, err := decodeRecord(v)
			if err != nil {
				return err
			}
			r.Body = nil
			fn(r)
			return nil
		})
	})
}

// depth, pendingBytes and deadCount are the store's sizes after the last commit.
func (s *BoltStore) depth() int64        { return s.items.Load() }
func (s *BoltStore) pendingBytes() int64 { return s.bytes.Load() }
func (s *BoltStore) deadCount() int64    { return s.dead.Load() }

// oldest returns the arrival time of the first pending record, zero when none. Records are
// keyed by arrival, so it reads one.
func (s *BoltStore) oldest() time.Time {
	var t time.Time
	_ = s.db.View(func(tx *bolt.Tx) error {
		if _, v := tx.Bucket(bucketPending).Cursor().First(); v != nil {
			if r, err := decodeRecord(v); err == nil {
				t = r.Received
			}
		}
		return nil
	})
	return t
}
