//go:build linux

package main

import (
	"math"
	"regexp"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5, math.Inf(1)}, 5},
	}
	for _, c := range cases {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestMedAddedPairsRounds(t *testing.T) {
	run := func(target string, round int, p99 time.Duration) runResult {
		return runResult{Scenario: 2, Target: target, Round: round, Load: loadResult{P99: p99}}
	}
	b := &bench{results: []runResult{
		run(targetDirect, 1, 100), run(targetRouter, 1, 150),
		run(targetDirect, 2, 300), run(targetRouter, 2, 310),
		run(targetDirect, 3, 200), run(targetRouter, 3, 230),
		{Scenario: 2, Target: targetRouter, Round: 4, Failed: "x"},
	}}
	if got := b.medAdded(2, targetRouter, fP99); got != 30 {
		t.Errorf("medAdded = %v, want 30 (the median of 50, 10, 30)", got)
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -45123: "-45,123"} {
		if got := fmtInt(in); got != want {
			t.Errorf("fmtInt(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{412 * time.Microsecond: "0.412 ms", 2345 * time.Microsecond: "2.35 ms", 24200 * time.Microsecond: "24.2 ms", 1059 * time.Millisecond: "1059 ms"} {
		if got := fmtMs(float64(in)); got != want {
			t.Errorf("fmtMs(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtAddedMs(float64(-100 * time.Microsecond)); got != "-0.100 ms" {
		t.Errorf("fmtAddedMs(-100µs) = %q", got)
	}
}

// Columns line up by characters, not bytes ("—", "×"), and columns of numbers are marked
// right-aligned for Markdown.
func TestTableAlignsColumns(t *testing.T) {
	got := table([]string{"target", "req/s", "answer"}, [][]string{{"nginx", "1,000", "upstream_error"}, {"router", "—", "breaker_open×"}})
	want := `| target | req/s | answer         |
| ---    | ---:  | ---            |
| nginx  | 1,000 | upstream_error |
| router | —     | breaker_open×  |
`
	if got != want {
		t.Errorf("table =\n%s\nwant\n%s", got, want)
	}
}

// Scripts read two of the report's lines; their wording and number format must not drift:
//
//	router/nginx: req/s **N×** · p99 N× · CPU s/10k N× · peak RSS N×
//	router: latest answer … · N KiB per hung callback (target ≤ 16 KiB: met|**NOT met**) · …
func TestSummaryLines(t *testing.T) {
	load := func(target string, round int, rps float64, p99 time.Duration, cpu time.Duration, rss int64) runResult {
		n := int64(rps * 10)
		return runResult{Scenario: 1, Target: target, Round: round, CPU: cpu, PeakRSS: rss,
			Load: loadResult{Requests: n, Elapsed: 10 * time.Second, P99: p99}}
	}
	hung := func(target string, late time.Duration, peak int64) runResult {
		return runResult{Scenario: 3, Target: target, Round: 1, Hang: &hangStats{Sent: 2000, Answered: 2000,
			MaxLate: late, RSSBase: 10 << 20, RSSPeak: 10<<20 + peak}}
	}
	b := &bench{
		opts:      options{scenarios: []int{1, 3}, targets: []string{targetNginx, targetRouter}, rounds: 1, hung: 2000, rate: 2000},
		nginx:     "nginx",
		routerBin: "callback-router",
		results: []runResult{
			load(targetNginx, 1, 40000, 2*time.Millisecond, 4*time.Second, 20<<20),
			load(targetRouter, 1, 30000, 5*time.Millisecond, 4500*time.Millisecond, 25<<20),
			hung(targetNginx, 100*time.Millisecond, 2000*10*1024),
			hung(targetRouter, 150*time.Millisecond, 2000*20*1024),
		},
	}
	doc := b.report(false)
	for _, c := range []struct {
		shape *regexp.Regexp
		want  string
	}{
		{regexp.MustCompile(`^router/nginx: req/s \*\*\d+\.\d\d×\*\* · p99 \d+\.\d\d× · CPU s/10k \d+\.\d\d× · peak RSS \d+\.\d\d×$`),
			"router/nginx: req/s **0.75×** · p99 2.50× · CPU s/10k 1.50× · peak RSS 1.25×"},
		{regexp.MustCompile(`^router: latest answer .* · \d+\.\d KiB per hung callback \(target ≤ 16 KiB: (met|\*\*NOT met\*\*)\)( · .*)?$`),
			"router: latest answer +150 ms after the deadline (nginx +100 ms: **NOT met**) · 20.0 KiB per hung callback (target ≤ 16 KiB: **NOT met**) · router/nginx memory per hung callback 2.00×"},
	} {
		var found []string
		for line := range strings.Lines(doc) {
			if line = strings.TrimSuffix(line, "\n"); c.shape.MatchString(line) {
				found = append(found, line)
			}
		}
		if len(found) != 1 || found[0] != c.want {
			t.Errorf("lines of the shape %s: got %q, want exactly %q; the report:\n%s", c.shape, found, c.want, doc)
		}
	}
}
