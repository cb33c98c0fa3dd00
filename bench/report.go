//go:build linux

package main

import (
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
)

// runResult is one measured run of one target.
type runResult struct {
	Scenario    int
	Target      string
	Round       int
	Failed      string // the run could not be measured, and why
	Load        loadResult
	CPU         time.Duration // CPU of the measured process(es) during the measured interval
	PeakRSS     int64         // VmHWM at the end of the run (nginx: summed over the workers)
	Fallbacks   int64         // fallbacks found in the proxy's log (scenarios 1, 2); -1 unknown
	SampleBad   int           // wrong answers among the samples checked before and after
	SampleFirst string
	Reason      string     // scenario 4: the X-Callback-Fallback reason answered
	Hang        *hangStats // scenario 3
}

// hangStats is scenario 3's measurement of one run.
type hangStats struct {
	Sent, Answered, Fallbacks, Wrong, Errors int
	Reasons, First                           string
	P50, P99Late, MaxLate                    time.Duration
	RSSBase, RSSDialed, RSSPeak              int64
	HWMReset                                 bool
}

func (h *hangStats) perHung() float64 { return float64(h.RSSPeak-h.RSSBase) / float64(max(h.Sent, 1)) }
func (h *hangStats) perConn() float64 {
	return float64(h.RSSDialed-h.RSSBase) / float64(max(h.Sent, 1))
}

func (r runResult) rps() float64 { return r.Load.rate() }

func (r runResult) cpuPer10k() float64 {
	if r.Load.Requests == 0 {
		return math.NaN()
	}
	return r.CPU.Seconds() * 1e4 / float64(r.Load.Requests)
}

func (r runResult) errors() int64 { return r.Load.errors() + int64(r.SampleBad) }

// problem is the first thing that went wrong in the run, if anything did.
func (r runResult) problem() string {
	switch {
	case r.Failed != "":
		return r.Failed
	case r.Hang != nil && r.Hang.First != "":
		return r.Hang.First
	case r.Load.FirstProblem != "":
		return r.Load.FirstProblem
	case r.SampleFirst != "":
		return "sample: " + r.SampleFirst
	case r.Fallbacks > 0:
		return fmt.Sprintf("%d fallbacks in the proxy's log where the upstream should have answered", r.Fallbacks)
	}
	return ""
}

// progress is the one line printed after each run.
func (r runResult) progress(rounds int) string {
	head := fmt.Sprintf("[s%d %d/%d] %-6s", r.Scenario, r.Round, rounds, r.Target)
	if r.Failed != "" {
		return head + " FAILED: " + r.Failed
	}
	if h := r.Hang; h != nil {
		return fmt.Sprintf("%s answered %d/%d (%s), max late %s, p99 late %s, %s per hung callback, errors %d",
			head, h.Answered, h.Sent, h.Reasons, fmtMs(float64(h.MaxLate)), fmtMs(float64(h.P99Late)), fmtKiB(h.perHung()), h.Errors+h.Wrong)
	}
	s := fmt.Sprintf("%s %s req/s  p50 %s  p99 %s  p99.9 %s  CPU %.3f s/10k  RSS %s  errors %d",
		head, fmtInt(r.rps()), fmtMs(float64(r.Load.P50)), fmtMs(float64(r.Load.P99)), fmtMs(float64(r.Load.P999)),
		r.cpuPer10k(), fmtMiB(float64(r.PeakRSS)), r.errors())
	if r.Fallbacks > 0 {
		s += fmt.Sprintf("  FALLBACKS %d", r.Fallbacks)
	}
	if r.Reason != "" {
		s += "  reason " + r.Reason
	}
	return s
}

// ---- statistics ----

// median of the finite values; NaN when there are none.
func median(xs []float64) float64 {
	var v []float64
	for _, x := range xs {
		if !math.IsNaN(x) && !math.IsInf(x, 0) {
			v = append(v, x)
		}
	}
	if len(v) == 0 {
		return math.NaN()
	}
	slices.Sort(v)
	if n := len(v); n%2 == 1 {
		return v[n/2]
	} else {
		return (v[n/2-1] + v[n/2]) / 2
	}
}

// runsOf returns the successful runs of a target in a scenario, by round.
func (b *bench) runsOf(scenario int, target string) []runResult {
	var out []runResult
	for _, r := range b.results {
		if r.Scenario == scenario && r.Target == target && r.Failed == "" {
			out = append(out, r)
		}
	}
	return out
}

func med(runs []runResult, f func(runResult) float64) float64 {
	xs := make([]float64, len(runs))
	for i, r := range runs {
		xs[i] = f(r)
	}
	return median(xs)
}

// medAdded is the median over rounds of f(target) − f(direct) in the same round.
func (b *bench) medAdded(scenario int, target string, f func(runResult) float64) float64 {
	direct := map[int]runResult{}
	for _, r := range b.runsOf(scenario, targetDirect) {
		direct[r.Round] = r
	}
	var xs []float64
	for _, r := range b.runsOf(scenario, target) {
		if d, ok := direct[r.Round]; ok {
			xs = append(xs, f(r)-f(d))
		}
	}
	return median(xs)
}

var (
	fRPS   = func(r runResult) float64 { return r.rps() }
	fP50   = func(r runResult) float64 { return float64(r.Load.P50) }
	fP99   = func(r runResult) float64 { return float64(r.Load.P99) }
	fP999  = func(r runResult) float64 { return float64(r.Load.P999) }
	fCPU   = func(r runResult) float64 { return r.cpuPer10k() }
	fRSS   = func(r runResult) float64 { return float64(r.PeakRSS) }
	fMax   = func(r runResult) float64 { return float64(r.Hang.MaxLate) }
	fP99L  = func(r runResult) float64 { return float64(r.Hang.P99Late) }
	fHung  = func(r runResult) float64 { return r.Hang.perHung() }
	fConn  = func(r runResult) float64 { return r.Hang.perConn() }
	fHP50  = func(r runResult) float64 { return float64(r.Hang.P50) }
	fBase  = func(r runResult) float64 { return float64(r.Hang.RSSBase) }
	fPeak  = func(r runResult) float64 { return float64(r.Hang.RSSPeak) }
	fAnsw  = func(r runResult) float64 { return float64(r.Hang.Answered) }
	fFallb = func(r runResult) float64 { return float64(r.Hang.Fallbacks) }
)

// ---- formatting ----

func fmtMs(ns float64) string {
	if math.IsNaN(ns) {
		return "—"
	}
	ms := ns / 1e6
	switch a := math.Abs(ms); {
	case a < 1:
		return fmt.Sprintf("%.3f ms", ms)
	case a < 10:
		return fmt.Sprintf("%.2f ms", ms)
	case a < 100:
		return fmt.Sprintf("%.1f ms", ms)
	}
	return fmt.Sprintf("%.0f ms", ms)
}

func fmtAddedMs(ns float64) string {
	if math.IsNaN(ns) {
		return "—"
	}
	if ns >= 0 {
		return "+" + fmtMs(ns)
	}
	return fmtMs(ns)
}

func fmtInt(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	s := strconv.FormatInt(int64(math.Round(x)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

func fmtMiB(bytes float64) string {
	if math.IsNaN(bytes) || bytes <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.1f MiB", bytes/(1<<20))
}

func fmtKiB(bytes float64) string {
	if math.IsNaN(bytes) {
		return "—"
	}
	return fmt.Sprintf("%.1f KiB", bytes/1024)
}

func fmtCPU(x float64) string {
	if math.IsNaN(x) {
		return "—"
	}
	return fmt.Sprintf("%.3f", x)
}

func fmtRatio(x float64) string {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return "—"
	}
	return fmt.Sprintf("%.2f×", x)
}

func verdict(ok bool, measured bool) string {
	switch {
	case !measured:
		return "not measured"
	case ok:
		return "met"
	}
	return "**NOT met**"
}

// table renders a Markdown table, its columns aligned by text/tabwriter for reading in a
// terminal. Columns of numbers are marked right-aligned for Markdown (---:).
func table(header []string, rows [][]string) string {
	delim := make([]string, len(header))
	for i := range header {
		delim[i] = "---"
		if i > 0 && allNumeric(rows, i) {
			delim[i] = "---:"
		}
	}
	var sb strings.Builder
	tw := tabwriter.NewWriter(&sb, 0, 0, 1, ' ', 0)
	for _, cells := range append([][]string{header, delim}, rows...) {
		fmt.Fprintf(tw, "| %s\t|\n", strings.Join(cells, "\t| "))
	}
	tw.Flush()
	return sb.String()
}

// allNumeric tells whether column i reads as numbers ("1,234", "0.42 ms", "+3 ms", "—", "")
// in every row.
func allNumeric(rows [][]string, i int) bool {
	for _, row := range rows {
		if c := row[i]; c != "" && c != "—" && c != "?" && !strings.ContainsRune("0123456789+-", []rune(c)[0]) {
			return false
		}
	}
	return true
}

// ---- the report ----

func (b *bench) has(scenario int) bool { return slices.Contains(b.opts.scenarios, scenario) }

// report renders the whole document: targets, one table per scenario, every run, the machine.
func (b *bench) report(interrupted bool) string {
	var sb strings.Builder
	m := b.machine
	fmt.Fprintf(&sb, "# callback-router benchmark\n\n")
	router := "router at " + orDash(m.commit)
	if b.opts.routerBin != "" {
		router = "router binary " + b.opts.routerBin
	}
	fmt.Fprintf(&sb, "`cd bench && go run . %s` — %s, %s.\n\n", strings.Join(b.args, " "), m.date.Format("2006-01-02 15:04 MST"), router)
	if interrupted {
		sb.WriteString("**Interrupted: the tables show the runs that finished.**\n\n")
	}
	load := "wrk -t2 -c" + strconv.Itoa(b.opts.conns)
	if b.wrk == nil {
		load = fmt.Sprintf("the Go load generator (closed loop, %d connections)", b.opts.conns)
	}
	fmt.Fprintf(&sb, "Every run starts fresh processes on loopback: a stub upstream, then nginx, callback-router or a bare fasthttp proxy "+
		"(*bare*: the floor of the router's design) in front of it, or nothing (*direct*). Each round runs the targets in turn; %d round(s), medians shown. "+
		"Scenarios 1 and 4 load with %s for %v after a %v warm-up; scenario 2 with the Go generator, open loop.\n\n",
		b.opts.rounds, load, b.opts.duration, b.opts.warmup)
	for _, n := range b.notes {
		fmt.Fprintf(&sb, "> %s\n\n", strings.ReplaceAll(n, "\n", "\n> "))
	}

	sb.WriteString("## Targets\n\n")
	sb.WriteString(b.targetsTable())
	sb.WriteString("\n")

	for _, id := range b.opts.scenarios {
		s := b.scenario(id)
		fmt.Fprintf(&sb, "## Scenario %d — %s\n\n", id, s.title)
		switch id {
		case 1, 4:
			b.saturationSection(&sb, s)
		case 2:
			b.fixedRateSection(&sb, s)
		case 3:
			b.hangSection(&sb, s)
		}
	}

	sb.WriteString("## Every run\n\n")
	sb.WriteString(b.runsTable())
	if p := b.problems(); p != "" {
		sb.WriteString("\nProblems seen:\n\n" + p)
	}
	sb.WriteString("\n## Machine\n\n")
	sb.WriteString(m.markdown())
	sb.WriteString("\n## How the numbers are taken\n\n")
	sb.WriteString(methodNotes)
	return sb.String()
}

const methodNotes = `- **req/s**: answered callbacks ÷ measured time (wrk's count in scenarios 1 and 4).
- **p50/p99/p99.9**: wrk's latency percentiles (scenarios 1, 4); in scenario 2 the Go generator's
  (open loop, one schedule per connection, as wrk2 does): from a callback's *scheduled* send time
  when its connection was still busy then, so a stall is charged to every callback it delays, else
  from its actual send (Go's timers wake up to ~1 ms late: the generator's delay, not the server's),
  to the kernel's receive timestamp of the answer (SO_TIMESTAMPNS). **added** = target − direct,
  per round, median over rounds.
- **CPU s/10k**: utime+stime from /proc/<pid>/stat of the process group under test (nginx: master
  and workers; direct: the stub) during the measured interval, per 10,000 answered callbacks. The
  load generator and, behind a proxy, the stub are not counted.
- **peak RSS**: VmHWM from /proc/<pid>/status at the end of the run; each run starts fresh
  processes. nginx: the sum over its workers (the master is left out; pages shared between
  workers count once per worker).
- **Scenario 3**: the connections are opened first, then every callback is sent at once; lateness =
  time from a callback's send to its answer's arrival (kernel timestamp; the generator reads
  nothing until 500 ms after the deadline, so it does not compete for the CPU meanwhile) − the
  deadline (max and p99). RSS per hung callback =
  (peak during the hang − RSS before the connections were opened) ÷ callbacks; the peak is the
  larger of VmRSS sampled every 5 ms and VmHWM reset (clear_refs) just before sending. *idle conn*
  is the share of it the open, idle connections already cost.
- **errors**: wrk's socket errors and non-2xx answers, the Go generator's socket errors, non-200
  and wrong answers, and wrong answers among the samples checked one by one before and after each
  run. **fallbacks** (scenarios 1, 2): fallback answers counted in the proxy's log
  (router: "fallback_reason"; nginx: the X-Callback-Fallback field of the access log) — any is a
  callback the upstream did not answer, which wrk cannot tell from a real answer.
- Scenario 4's throughput is bounded by what wrk itself can drive on this machine (about the
  *direct* req/s of scenario 1, as both share the CPUs with the proxy).
- The machine is shared and noisy: compare targets within one run of the bench, not across runs.
`

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// targetsTable checks the targets (issue 13's, and issue 6's breaker ratio) with the medians.
func (b *bench) targetsTable() string {
	var rows [][]string
	router1, nginx1 := b.runsOf(1, targetRouter), b.runsOf(1, targetNginx)
	has1 := len(router1) > 0 && len(nginx1) > 0
	if b.has(1) {
		rr, nr := med(router1, fRPS), med(nginx1, fRPS)
		x := rr / nr
		rows = append(rows, []string{"throughput at saturation ≥ 0.75× nginx (then ≥ 1.0×)", fmtRatio(x) + " (" + fmtInt(rr) + " vs " + fmtInt(nr) + " req/s)", verdict(x >= 0.75, has1)})
		rc, nc := med(router1, fCPU), med(nginx1, fCPU)
		rows = append(rows, []string{"scenario 1 CPU s/10k ≤ 1.4× nginx", fmtRatio(rc/nc) + " (" + fmtCPU(rc) + " vs " + fmtCPU(nc) + ")", verdict(rc/nc <= 1.4, has1)})
	}
	if b.has(1) && b.has(4) {
		r4, n4 := b.runsOf(4, targetRouter), b.runsOf(4, targetNginx)
		ru, nu := upstreamSide(router1, r4), upstreamSide(nginx1, n4)
		ok := has1 && len(r4) > 0 && len(n4) > 0
		rows = append(rows, []string{"upstream side (s1 − s4 CPU s/10k) ≤ 2× nginx", fmtRatio(ru/nu) + " (" + fmtCPU(ru) + " vs " + fmtCPU(nu) + ")", verdict(ru/nu <= 2, ok)})
	}
	if b.has(2) {
		ra, na := b.medAdded(2, targetRouter, fP99), b.medAdded(2, targetNginx, fP99)
		ok := !math.IsNaN(ra) && !math.IsNaN(na)
		rows = append(rows, []string{"p99 added latency at " + fmtInt(b.opts.rate) + "/s ≤ nginx's + 0.5 ms",
			fmt.Sprintf("router %s, nginx %s: %s", fmtAddedMs(ra), fmtAddedMs(na), fmtAddedMs(ra-na)), verdict(ra-na <= 0.5e6, ok)})
	}
	if b.has(3) {
		rh, nh := b.runsOf(3, targetRouter), b.runsOf(3, targetNginx)
		late, nlate, per := med(rh, fMax), med(nh, fMax), med(rh, fHung)
		answered := len(rh) > 0
		for _, r := range rh {
			answered = answered && r.Hang.Answered == r.Hang.Sent
		}
		lateText := fmt.Sprintf("router %s, nginx %s after the deadline", fmtAddedMs(late), fmtAddedMs(nlate))
		if len(rh) > 0 && !answered {
			lateText += " (some callbacks got no answer)"
		}
		rows = append(rows,
			[]string{"hung upstream: latest answer no later than nginx's", lateText, verdict(late <= nlate && answered, len(rh) > 0 && len(nh) > 0)},
			[]string{"hung upstream: ≤ 16 KiB per hung callback", fmtKiB(per), verdict(per <= 16*1024, len(rh) > 0)})
	}
	if b.has(4) {
		r4 := b.runsOf(4, targetRouter)
		if before := b.runsOf(4, targetBefore); len(before) > 0 {
			rc, bc := med(r4, fCPU), med(before, fCPU)
			rows = append(rows, []string{"breaker open: CPU s/10k unchanged or better than before", fmtRatio(rc/bc) + " (" + fmtCPU(rc) + " vs " + fmtCPU(bc) + ")",
				verdict(rc <= bc*1.05, len(r4) > 0)})
		}
		x := med(r4, fRPS) / med(router1, fRPS)
		rows = append(rows, []string{"breaker open ≥ 3× the healthy throughput", fmtRatio(x) + " (router, scenario 4 ÷ scenario 1)",
			verdict(x >= 3, len(r4) > 0 && len(router1) > 0)})
	}
	return table([]string{"target", "measured (medians)", "verdict"}, rows)
}

// upstreamSide is what calling the upstream costs a proxy: its scenario 1 CPU per callback
// less its scenario 4 CPU per callback (the same work without the upstream call).
func upstreamSide(s1, s4 []runResult) float64 { return med(s1, fCPU) - med(s4, fCPU) }

// ratioLines compares every proxy target with nginx, the router with the bare proxy and with
// the build measured before, and the traced router with the router.
func (b *bench) ratioLines(sb *strings.Builder, id int) {
	nginx := b.runsOf(id, targetNginx)
	line := func(name string, runs, base []runResult) {
		if len(runs) == 0 || len(base) == 0 {
			return
		}
		fmt.Fprintf(sb, "%s: req/s **%s** · p99 %s · CPU s/10k %s · peak RSS %s\n\n", name,
			fmtRatio(med(runs, fRPS)/med(base, fRPS)), fmtRatio(med(runs, fP99)/med(base, fP99)),
			fmtRatio(med(runs, fCPU)/med(base, fCPU)), fmtRatio(med(runs, fRSS)/med(base, fRSS)))
	}
	router := b.runsOf(id, targetRouter)
	line("router/nginx", router, nginx)
	line("bare/nginx", b.runsOf(id, targetBare), nginx)
	line("before/nginx", b.runsOf(id, targetBefore), nginx)
	line("router/bare", router, b.runsOf(id, targetBare))
	line("router/before", router, b.runsOf(id, targetBefore))
	line("traced/router", b.runsOf(id, targetTraced), router)
	line("traced/before-traced", b.runsOf(id, targetTraced), b.runsOf(id, targetBeforeTraced))
}

func (b *bench) summaryRow(runs []runResult, target string, extra ...string) []string {
	var errs int64
	for _, r := range runs {
		errs += r.errors()
	}
	row := []string{target, fmtInt(med(runs, fRPS)), fmtMs(med(runs, fP50)), fmtMs(med(runs, fP99)), fmtMs(med(runs, fP999)),
		fmtCPU(med(runs, fCPU)), fmtMiB(med(runs, fRSS))}
	row = append(row, extra...)
	return append(row, strconv.FormatInt(errs, 10))
}

func failedNote(b *bench, s scenario) string {
	var out []string
	for _, t := range s.targets {
		n := 0
		for _, r := range b.results {
			if r.Scenario == s.id && r.Target == t && r.Failed != "" {
				n++
			}
		}
		if n > 0 {
			out = append(out, fmt.Sprintf("%s failed %d run(s) (see Every run)", t, n))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return "\n" + strings.Join(out, "; ") + ".\n"
}

func sumFallbacks(runs []runResult) string {
	var fb int64
	for _, r := range runs {
		if r.Fallbacks < 0 {
			return "?"
		}
		fb += r.Fallbacks
	}
	return strconv.FormatInt(fb, 10)
}

// saturationSection is scenarios 1 and 4.
func (b *bench) saturationSection(sb *strings.Builder, s scenario) {
	header := []string{"target", "req/s", "p50", "p99", "p99.9", "CPU s/10k", "peak RSS"}
	if s.id == 1 {
		header = append(header, "fallbacks")
	} else {
		header = append(header, "answer")
	}
	header = append(header, "errors")
	var rows [][]string
	for _, t := range s.targets {
		runs := b.runsOf(s.id, t)
		extra := sumFallbacks(runs)
		if s.id == 4 {
			extra = reasonsOf(runs)
		}
		rows = append(rows, b.summaryRow(runs, t, extra))
	}
	sb.WriteString(table(header, rows))
	sb.WriteString(failedNote(b, s))
	sb.WriteString("\n")
	router, direct := b.runsOf(s.id, targetRouter), b.runsOf(s.id, targetDirect)
	b.ratioLines(sb, s.id)
	if len(direct) > 0 {
		var parts []string
		for _, t := range s.targets[1:] {
			if runs := b.runsOf(s.id, t); len(runs) > 0 {
				parts = append(parts, fmt.Sprintf("%s %s", t, fmtRatio(med(runs, fRPS)/med(direct, fRPS))))
			}
		}
		if len(parts) > 0 {
			fmt.Fprintf(sb, "req/s as a share of direct: %s\n\n", strings.Join(parts, " · "))
		}
	}
	if s.id == 4 {
		if healthy := b.runsOf(1, targetRouter); len(router) > 0 && len(healthy) > 0 {
			x := med(router, fRPS) / med(healthy, fRPS)
			fmt.Fprintf(sb, "router breaker open ÷ router healthy (scenario 1): **%s** (target ≥ 3×: %s)\n\n", fmtRatio(x), verdict(x >= 3, true))
		}
	}
}

func reasonsOf(runs []runResult) string {
	var rs []string
	for _, r := range runs {
		if r.Reason != "" && !slices.Contains(rs, r.Reason) {
			rs = append(rs, r.Reason)
		}
	}
	if len(rs) == 0 {
		return "—"
	}
	return strings.Join(rs, ", ")
}

// fixedRateSection is scenario 2.
func (b *bench) fixedRateSection(sb *strings.Builder, s scenario) {
	header := []string{"target", "req/s", "p50", "p99", "p99.9", "CPU s/10k", "peak RSS", "added p50", "added p99", "added p99.9", "fallbacks", "errors"}
	var rows [][]string
	for _, t := range s.targets {
		runs := b.runsOf(s.id, t)
		added := []string{"", "", ""}
		if t != targetDirect {
			added = []string{fmtAddedMs(b.medAdded(s.id, t, fP50)), fmtAddedMs(b.medAdded(s.id, t, fP99)), fmtAddedMs(b.medAdded(s.id, t, fP999))}
		}
		rows = append(rows, b.summaryRow(runs, t, append(added, sumFallbacks(runs))...))
	}
	sb.WriteString(table(header, rows))
	sb.WriteString(failedNote(b, s))
	sb.WriteString("\n")
	na := b.medAdded(s.id, targetNginx, fP99)
	for _, t := range []string{targetBare, targetBefore, targetRouter} {
		if ta := b.medAdded(s.id, t, fP99); !math.IsNaN(ta) && !math.IsNaN(na) {
			fmt.Fprintf(sb, "%s's p99 added − nginx's p99 added: **%s** (target ≤ +0.5 ms: %s) · %s/nginx CPU s/10k %s · peak RSS %s\n\n",
				t, fmtAddedMs(ta-na), verdict(ta-na <= 0.5e6, true), t,
				fmtRatio(med(b.runsOf(s.id, t), fCPU)/med(b.runsOf(s.id, targetNginx), fCPU)),
				fmtRatio(med(b.runsOf(s.id, t), fRSS)/med(b.runsOf(s.id, targetNginx), fRSS)))
		}
	}
	var queued, total int64
	for _, r := range b.results {
		if r.Scenario == s.id {
			queued += r.Load.Queued
			total += r.Load.Requests
		}
	}
	if queued > 0 {
		fmt.Fprintf(sb, "%s of %s callbacks found their connection still busy at their scheduled time; their latency counts from the schedule.\n\n", fmtInt(float64(queued)), fmtInt(float64(total)))
	}
}

// hangSection is scenario 3.
func (b *bench) hangSection(sb *strings.Builder, s scenario) {
	header := []string{"target", "answered", "fallbacks", "p50 answer", "p99 late", "max late", "RSS before", "RSS peak", "per hung callback", "of which idle conn", "errors"}
	var rows [][]string
	for _, t := range s.targets {
		runs := b.runsOf(s.id, t)
		var errs int
		reasons := []string{}
		for _, r := range runs {
			errs += r.Hang.Errors + r.Hang.Wrong
			if !slices.Contains(reasons, r.Hang.Reasons) {
				reasons = append(reasons, r.Hang.Reasons)
			}
		}
		rows = append(rows, []string{t,
			fmt.Sprintf("%s/%d", fmtInt(med(runs, fAnsw)), b.opts.hung),
			fmtInt(med(runs, fFallb)) + " (" + strings.Join(reasons, "; ") + ")",
			fmtMs(med(runs, fHP50)), fmtAddedMs(med(runs, fP99L)), fmtAddedMs(med(runs, fMax)),
			fmtMiB(med(runs, fBase)), fmtMiB(med(runs, fPeak)), fmtKiB(med(runs, fHung)), fmtKiB(med(runs, fConn)),
			strconv.Itoa(errs)})
	}
	sb.WriteString(table(header, rows))
	sb.WriteString(failedNote(b, s))
	sb.WriteString("\n")
	nh := b.runsOf(s.id, targetNginx)
	for _, t := range []string{targetBare, targetBefore, targetRouter} {
		rh := b.runsOf(s.id, t)
		if len(rh) == 0 {
			continue
		}
		late, per := med(rh, fMax), med(rh, fHung)
		fmt.Fprintf(sb, "%s: latest answer %s after the deadline", t, fmtAddedMs(late))
		if len(nh) > 0 {
			nlate := med(nh, fMax)
			fmt.Fprintf(sb, " (nginx %s: %s)", fmtAddedMs(nlate), verdict(late <= nlate, true))
		}
		fmt.Fprintf(sb, " · %s per hung callback (target ≤ 16 KiB: %s)", fmtKiB(per), verdict(per <= 16*1024, true))
		if len(nh) > 0 {
			fmt.Fprintf(sb, " · %s/nginx memory per hung callback %s", t, fmtRatio(per/med(nh, fHung)))
		}
		sb.WriteString("\n\n")
	}
}

// runsTable lists every run.
func (b *bench) runsTable() string {
	header := []string{"scenario", "round", "target", "req/s", "p50", "p99", "p99.9", "CPU s/10k", "peak RSS", "errors", "note"}
	var rows [][]string
	for _, r := range b.results {
		row := []string{strconv.Itoa(r.Scenario), strconv.Itoa(r.Round), r.Target}
		switch {
		case r.Failed != "":
			row = append(row, "—", "—", "—", "—", "—", "—", "—", "failed")
		case r.Hang != nil:
			h := r.Hang
			row = append(row, "—", fmtMs(float64(h.P50)), "—", "—", "—", fmtMiB(float64(h.RSSPeak)), strconv.Itoa(h.Errors+h.Wrong),
				fmt.Sprintf("answered %d/%d, max late %s, %s per hung callback", h.Answered, h.Sent, fmtAddedMs(float64(h.MaxLate)), fmtKiB(h.perHung())))
		default:
			note := ""
			if r.Fallbacks > 0 {
				note = fmt.Sprintf("%d fallbacks", r.Fallbacks)
			}
			if r.Reason != "" {
				note = r.Reason
			}
			row = append(row, fmtInt(r.rps()), fmtMs(float64(r.Load.P50)), fmtMs(float64(r.Load.P99)), fmtMs(float64(r.Load.P999)),
				fmtCPU(r.cpuPer10k()), fmtMiB(float64(r.PeakRSS)), strconv.FormatInt(r.errors(), 10), note)
		}
		rows = append(rows, row)
	}
	return table(header, rows)
}

// problems lists the first problem of each run that had one.
func (b *bench) problems() string {
	var sb strings.Builder
	for _, r := range b.results {
		if p := r.problem(); p != "" {
			p = strings.ReplaceAll(strings.TrimSpace(p), "\n", "\n  ")
			fmt.Fprintf(&sb, "- scenario %d round %d %s: %s\n", r.Scenario, r.Round, r.Target, p)
		}
	}
	return sb.String()
}
