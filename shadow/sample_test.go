package shadow_test

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/callback-router/callback-router/shadow"
)

func TestSampledShare(t *testing.T) {
	const n = 20000
	for _, percent := range []float64{0, 1, 5, 12.5, 50, 99, 100} {
		t.Run(fmt.Sprint(percent), func(t *testing.T) {
			picked := 0
			for i := range n {
				// Request ids as the router makes them: a process prefix and a base-36 counter.
				if shadow.Sampled("3f9a1c07be42-"+strconv.FormatInt(int64(i+1), 36), percent) {
					picked++
				}
			}
			got := 100 * float64(picked) / n
			if math.Abs(got-percent) > 1.5 {
				t.Errorf("Sampled at %v%%: got %.2f%% of %d ids", percent, got, n)
			}
			if (percent == 0 && picked != 0) || (percent == 100 && picked != n) {
				t.Errorf("Sampled at %v%%: picked %d of %d", percent, picked, n)
			}
		})
	}
}

func TestSampledIsStable(t *testing.T) {
	for i := range 100 {
		id := fmt.Sprint("a1b2c3d4e5f6-", i)
		if shadow.Sampled(id, 30) != shadow.Sampled(id, 30) {
			t.Fatalf("Sampled(%q) changed its mind", id)
		}
	}
	if got := testing.AllocsPerRun(100, func() { shadow.Sampled("a1b2c3d4e5f6-zz", 30) }); got != 0 {
		t.Errorf("Sampled allocates %v times, want 0", got)
	}
}
