package delivery

import (
	"container/heap"
	"time"
)

// item is a pending record as the scheduler holds it: without its body, which is read from
// the store when it is attempted.
type item struct {
	rec  *Record
	lane *lane // nil when its route does not ask for order
}

// lane holds the records of one room for one upstream, oldest first. Only its head is in
// the heap: the next record of the room is not attempted until the head is delivered or
// dead-lettered.
type lane struct {
	key   string
	items []*item
}

// schedule orders the pending records by when they are due. It is not safe for concurrent
// use; the Bolt backend guards it.
type schedule struct {
	due   itemHeap
	lanes map[string]*lane
}

func newSchedule() *schedule { return &schedule{lanes: map[string]*lane{}} }

// add takes a new pending record.
func (s *schedule) add(r *Record) {
	it := &item{rec: r}
	if r.OrderKey == "" {
		heap.Push(&s.due, it)
		return
	}
	key := r.Upstream + "\x00" + r.OrderKey
	l := s.lanes[key]
	if l == nil {
		l = &lane{key: key}
		s.lanes[key] = l
	}
	it.lane = l
	l.items = append(l.items, it)
	if len(l.items) == 1 {
		heap.Push(&s.due, it)
	}
}

// next pops the first item due at now. When none is, it returns how long until one is
// (a long wait when the schedule is empty).
func (s *schedule) next(now time.Time) (*item, time.Duration) {
	if len(s.due) == 0 {
		return nil, time.Hour
	}
	top := s.due[0]
	if wait := top.rec.NextAt.Sub(now); wait > 0 {
		return nil, wait
	}
	heap.Pop(&s.due)
	return top, 0
}

// again puts an item back after a failed attempt; it stays its lane's head.
func (s *schedule) again(it *item) { heap.Push(&s.due, it) }

// done forgets an item that was delivered, dead-lettered or dropped, and lets the next
// record of its room become due.
func (s *schedule) done(it *item) {
	l := it.lane
	if l == nil {
		return
	}
	l.items = l.items[1:]
	if len(l.items) == 0 {
		delete(s.lanes, l.key)
		return
	}
	heap.Push(&s.due, l.items[0])
}

// itemHeap orders items by due time, then by arrival.
type itemHeap []*item

func (h itemHeap) Len() int { return len(h) }
func (h itemHeap) Less(i, j int) bool {
	a, b := h[i].rec, h[j].rec
	if !a.NextAt.Equal(b.NextAt) {
		return a.NextAt.Before(b.NextAt)
	}
	return a.Seq < b.Seq
}
func (h itemHeap) Swap(i, j int) {
	h[i], h[j] = h[j], h[i]
}
func (h *itemHeap) Push(x any) {
	*h = append(*h, x.(*item))
}
func (h *itemHeap) Pop() any {
	old := *h
	it := old[len(old)-1]
	old[len(old)-1] = nil
	*h = old[:len(old)-1]
	return it
}
