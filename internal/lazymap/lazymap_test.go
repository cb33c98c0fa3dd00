package lazymap_test

import (
	"sync"
	"sync/atomic"
	"testing"

	"github.com/callback-router/callback-router/internal/lazymap"
)

func TestGetCreatesOncePerKey(t *testing.T) {
	var (
		mu      sync.RWMutex
		m       = map[string]*int{}
		created atomic.Int32
		wg      sync.WaitGroup
	)
	got := make([]*int, 16)
	for i := range got {
		wg.Go(func() {
			got[i] = lazymap.Get(&mu, m, "route", func() *int {
				created.Add(1)
				return new(int)
			})
		})
	}
	wg.Wait()
	if n := created.Load(); n != 1 {
		t.Fatalf("created %d values for one key, want 1", n)
	}
	for i, p := range got {
		if p != got[0] {
			t.Fatalf("caller %d got %p, want the one value %p", i, p, got[0])
		}
	}
	other := lazymap.Get(&mu, m, "other", func() *int { return new(int) })
	if other == got[0] || len(m) != 2 {
		t.Fatalf("a second key: got the first key's value or %d entries, want its own value and 2 entries", len(m))
	}
}
