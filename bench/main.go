//go:build linux

// Command bench measures callback-router against nginx configured as the equivalent router,
// and against the upstream called directly, side by side on loopback (issue 6): throughput at
// saturation, added latency at a fixed rate, a hung upstream, and an open breaker. It starts
// and stops everything itself; see bench/README.md.
//
// It is a Go module of its own (bench/go.mod): it imports nothing of the router, whose
// `go test ./...` and `go vet ./...` leave it out. It builds the router from the parent
// directory with `go build`, and checks its generated config with `callback-router validate`.
//
//	cd bench && go run . [-duration 10s] [-rounds 3] [-scenarios 1,2,3,4] [-markdown ../BENCHMARKS.md]
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The targets, in the order every round runs them.
const (
	targetDirect = "direct"
	targetNginx  = "nginx"
	targetBare   = "bare" // a bare fasthttp proxy: the floor of the router's design (bare.go)
	targetRouter = "router"
	targetBefore = "before" // another router binary (-before), measured in the same rounds
	targetTraced = "traced" // the router with tracing on at the default sample ratio, exporting to the stub
	// targetBeforeTraced is the -before binary with tracing on, as traced: what a change to
	// tracing costs or saves, measured in the same rounds.
	targetBeforeTraced = "before-traced"
)

// allTargets in the order every round runs them.
var allTargets = []string{targetDirect, targetNginx, targetBare, targetBefore, targetBeforeTraced, targetRouter, targetTraced}

type options struct {
	duration, warmup time.Duration
	rounds           int
	scenarios        []int
	targets          []string
	conns            int
	rate             float64
	rateConns        int
	hung             int
	deadline         time.Duration // scenarios 1, 2, 4
	hangDeadline     time.Duration // scenario 3
	samples          int
	markdown         string
	engine           string
	routerBin        string
	beforeBin        string
	noNginx, noWrk   bool
	reuseport        bool
	pipeline         int
	beforePipeline   int
	keep             bool
}

func main() {
	if len(os.Args) > 1 && os.Args[1] == "-stub" {
		os.Exit(stubMain(os.Args[2:]))
	}
	if len(os.Args) > 1 && os.Args[1] == "-bare" {
		os.Exit(bareMain(os.Args[2:]))
	}
	os.Exit(benchMain(os.Args[1:]))
}

func parseOptions(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("bench", flag.ContinueOnError)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "usage: cd bench && go run . [flags]   (see bench/README.md)\n\n")
		fs.PrintDefaults()
	}
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "measured time of each run of scenarios 1, 2 and 4")
	fs.DurationVar(&o.warmup, "warmup", time.Second, "load before each measured run (0 = none)")
	fs.IntVar(&o.rounds, "rounds", 3, "rounds per scenario; each round runs every target once (direct, nginx, router) and the tables show medians")
	scen := fs.String("scenarios", "1,2,3,4", "scenarios to run: 1 saturation, 2 fixed rate, 3 hung upstream, 4 breaker open")
	targets := fs.String("targets", "direct,nginx,bare,router", "targets to run, of direct, nginx, bare, before, before-traced, router, traced (each scenario runs those that apply; before and before-traced need -before; traced is the router with tracing on)")
	fs.IntVar(&o.conns, "conns", 64, "connections for scenarios 1 and 4 (wrk -c)")
	fs.Float64Var(&o.rate, "rate", 2000, "callbacks per second in scenario 2")
	fs.IntVar(&o.rateConns, "rate-conns", 32, "connections for scenario 2")
	fs.IntVar(&o.hung, "hung", 2000, "concurrent callbacks to the hung upstream in scenario 3")
	fs.DurationVar(&o.deadline, "deadline", 1800*time.Millisecond, "the gift route's deadline in scenarios 1, 2 and 4")
	fs.DurationVar(&o.hangDeadline, "hang-deadline", time.Second, "the gift route's deadline in scenario 3")
	fs.IntVar(&o.samples, "samples", 20, "answers checked one by one before and after each run")
	fs.StringVar(&o.markdown, "markdown", "", "also write the report (tables and machine description) to this file, e.g. BENCHMARKS.md")
	fs.StringVar(&o.engine, "engine", "", "the router's server.engine (fasthttp or net/http); empty = the router's default")
	fs.StringVar(&o.routerBin, "router-bin", "", "benchmark this callback-router binary instead of building the repository's")
	fs.StringVar(&o.beforeBin, "before", "", "also benchmark this callback-router binary, as target \"before\", in the same rounds (a before/after comparison)")
	fs.BoolVar(&o.noNginx, "no-nginx", false, "leave nginx out even when installed")
	fs.BoolVar(&o.noWrk, "no-wrk", false, "use the Go load generator for scenarios 1 and 4 even when wrk is installed")
	fs.IntVar(&o.pipeline, "pipeline", 0, "the router's upstreams.*.pipeline (and the bare proxy's): pipeline to the stub over this many connections; 0 = off (nginx cannot pipeline to upstreams)")
	fs.IntVar(&o.beforePipeline, "before-pipeline", -1, "the -before router's upstreams.*.pipeline; -1 = as -pipeline (set it to compare one build with and without pipelining)")
	fs.BoolVar(&o.reuseport, "nginx-reuseport", true, "listen with reuseport in nginx (one accept queue per worker; nginx is faster with it on a few cores)")
	fs.BoolVar(&o.keep, "keep", false, "keep the temporary directory (configs, logs) and print its path")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	for s := range strings.SplitSeq(*scen, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n < 1 || n > 4 {
			return o, fmt.Errorf("-scenarios: %q is not 1, 2, 3 or 4", s)
		}
		if !slices.Contains(o.scenarios, n) {
			o.scenarios = append(o.scenarios, n)
		}
	}
	slices.Sort(o.scenarios)
	for t := range strings.SplitSeq(*targets, ",") {
		t = strings.TrimSpace(t)
		if !slices.Contains(allTargets, t) {
			return o, fmt.Errorf("-targets: %q is not direct, nginx, bare, before, before-traced, router or traced", t)
		}
		if !slices.Contains(o.targets, t) {
			o.targets = append(o.targets, t)
		}
	}
	if o.beforeBin != "" && !slices.Contains(o.targets, targetBefore) && !slices.Contains(o.targets, targetBeforeTraced) {
		o.targets = append(o.targets, targetBefore)
	}
	if o.beforeBin == "" && (slices.Contains(o.targets, targetBefore) || slices.Contains(o.targets, targetBeforeTraced)) {
		return o, errors.New("-targets before and before-traced need -before FILE")
	}
	switch {
	case o.duration < time.Second || o.duration > time.Hour:
		return o, errors.New("-duration must be between 1s and 1h")
	case o.warmup < 0 || o.warmup > 10*time.Minute:
		return o, errors.New("-warmup must be between 0 and 10m")
	case o.rounds < 1 || o.rounds > 100:
		return o, errors.New("-rounds must be between 1 and 100")
	case o.conns < 1 || o.conns > 10000:
		return o, errors.New("-conns must be between 1 and 10000")
	case o.rate < 1 || o.rate > 1e6:
		return o, errors.New("-rate must be between 1 and 1000000")
	case o.rateConns < 1 || o.rateConns > 10000:
		return o, errors.New("-rate-conns must be between 1 and 10000")
	case o.hung < 1 || o.hung > 100000:
		return o, errors.New("-hung must be between 1 and 100000")
	case o.deadline <= 0 || o.hangDeadline <= 0:
		return o, errors.New("-deadline and -hang-deadline must be positive")
	case o.pipeline < 0 || o.pipeline > 64 || o.beforePipeline < -1 || o.beforePipeline > 64:
		return o, errors.New("-pipeline and -before-pipeline must be between 0 and 64")
	case o.samples < 1 || o.samples > 10000:
		return o, errors.New("-samples must be between 1 and 10000")
	}
	return o, nil
}

// measuresThisRouter reports whether targets include a run of the repository's router (or
// -router-bin): router itself, or traced, which is the same router with tracing on.
func measuresThisRouter(targets []string) bool {
	return slices.Contains(targets, targetRouter) || slices.Contains(targets, targetTraced)
}

// bench is one invocation: its tools, its temporary directory and its results.
type bench struct {
	opts      options
	args      []string
	root      string // the repository root
	dir       string // temporary directory
	self      string // this binary, re-executed as the stub
	routerBin string
	beforeBin string
	nginx     string
	nginxInfo string
	wrk       *wrkRunner
	notes     []string // what was left out and why
	machine   machineInfo
	results   []runResult
	started   time.Time
}

func benchMain(args []string) int {
	opts, err := parseOptions(args)
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 2
	}
	b := &bench{opts: opts, args: args, started: time.Now()}
	defer b.cleanup() // after stopAll: the processes write into the directory
	// Whatever happens, every process started is stopped before returning.
	defer stopAll()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		stop() // a second Ctrl-C kills the bench at once (its children die with it: Pdeathsig)
	}()
	if err := b.setup(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		return 1
	}
	b.run(ctx)
	interrupted := ctx.Err() != nil
	stopAll()
	b.machine.loadEnd = readLoadAvg()

	doc := b.report(interrupted)
	fmt.Print(doc)
	if opts.markdown != "" {
		if err := os.WriteFile(opts.markdown, []byte(doc), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "bench:", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "bench: wrote %s\n", opts.markdown)
	}
	if interrupted {
		return 130
	}
	return 0
}

// setup finds the repository and the tools, raises the file limit and builds the router.
func (b *bench) setup(ctx context.Context) error {
	var err error
	if b.self, err = os.Executable(); err != nil {
		return err
	}
	if b.root, err = repoRoot(); err != nil {
		return err
	}
	if b.dir, err = os.MkdirTemp("", "callback-router-bench-"); err != nil {
		return err
	}
	if lim, err := raiseNoFile(); err != nil {
		b.note("could not raise RLIMIT_NOFILE: %v", err)
	} else if need := uint64(b.opts.hung*3 + b.opts.conns*3 + 256); lim < need {
		b.note("RLIMIT_NOFILE is %d; scenario 3 with -hung %d may run out of descriptors (wants about %d)", lim, b.opts.hung, need)
	}
	b.machine = describeMachine(ctx, b.root)

	if !measuresThisRouter(b.opts.targets) {
		// not measured
	} else if b.opts.routerBin != "" {
		if b.routerBin, err = filepath.Abs(b.opts.routerBin); err != nil {
			return err
		}
	} else {
		logf("building the router from %s", b.root)
		if b.routerBin, err = buildRouter(ctx, b.root, b.dir); err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			b.note("router left out: %v", err)
		}
	}
	if b.routerBin != "" {
		out, _, _ := runCmd(ctx, 10*time.Second, "", nil, b.routerBin, "version")
		b.machine.router = strings.TrimSpace(out)
	}
	if b.opts.beforeBin != "" {
		if b.beforeBin, err = filepath.Abs(b.opts.beforeBin); err != nil {
			return err
		}
		out, _, err := runCmd(ctx, 10*time.Second, "", nil, b.beforeBin, "version")
		if err != nil {
			return fmt.Errorf("-before %s: %v", b.opts.beforeBin, err)
		}
		b.machine.before = strings.TrimSpace(out)
	}

	if !slices.Contains(b.opts.targets, targetNginx) {
		// not measured
	} else if b.opts.noNginx {
		b.note("nginx left out (-no-nginx)")
	} else if b.nginx, err = findNginx(); err != nil {
		b.note("nginx columns skipped: %v", err)
	} else {
		b.nginxInfo = nginxInfo(ctx, b.nginx)
		b.machine.nginx = firstLine(b.nginxInfo)
	}
	needWrk := slices.Contains(b.opts.scenarios, 1) || slices.Contains(b.opts.scenarios, 4)
	if b.opts.noWrk {
		b.note("scenarios 1 and 4 use the Go load generator (-no-wrk)")
	} else if b.wrk, err = newWrk(b.dir); err != nil {
		if needWrk {
			b.note("%v: scenarios 1 and 4 use the Go load generator (closed loop, %d keep-alive connections)", err, b.opts.conns)
		}
	} else {
		out, _, _ := runCmd(ctx, 10*time.Second, "", nil, b.wrk.bin, "-v")
		b.machine.wrk = firstLine(out)
	}
	if b.routerBin == "" && b.nginx == "" && !slices.Contains(b.opts.targets, targetDirect) {
		return errors.New("neither the router nor nginx can run: nothing to measure")
	}
	return nil
}

func (b *bench) cleanup() {
	if b.dir == "" {
		return
	}
	if b.opts.keep {
		fmt.Fprintf(os.Stderr, "bench: kept %s\n", b.dir)
		return
	}
	os.RemoveAll(b.dir)
}

func (b *bench) note(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	b.notes = append(b.notes, msg)
	logf("%s", msg)
}

func logf(format string, args ...any) {
	fmt.Fprintf(os.Stderr, "bench: "+format+"\n", args...)
}

// repoRoot finds the router's repository: the nearest directory above the working directory
// whose go.mod declares the router's module. The bench is a module of its own inside it
// (bench/go.mod), so `cd bench && go run .` finds the parent.
func repoRoot() (string, error) {
	const module = "module github.com/callback-router/callback-router\n"
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for range 64 {
		if b, err := os.ReadFile(filepath.Join(dir, "go.mod")); err == nil && strings.Contains(string(b), module) {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			break
		}
		dir = parent
	}
	return "", errors.New("run from inside the callback-router repository (no go.mod declaring github.com/callback-router/callback-router found above the working directory)")
}

// scenario describes one of the four measurements.
type scenario struct {
	id      int
	title   string
	targets []string
}

func (b *bench) scenario(id int) scenario {
	all := slices.Clone(allTargets)
	s := scenario{id: id}
	switch id {
	case 1:
		s.title = "healthy upstream at saturation"
	case 2:
		s.title = fmt.Sprintf("fixed rate %.0f/s: added latency over direct", b.opts.rate)
	case 3:
		s.title = fmt.Sprintf("hung upstream, %d concurrent callbacks, deadline %v", b.opts.hung, b.opts.hangDeadline)
		all = slices.DeleteFunc(all, func(t string) bool { return t == targetDirect }) // nothing answers directly
	case 4:
		s.title = "upstream down, breaker open"
		// Nothing answers directly, and the bare proxy has no breaker: it would measure
		// connection refusals, not what an open breaker costs.
		// Nor is there a stub for the traced router to export to.
		all = slices.DeleteFunc(all, func(t string) bool {
			return t == targetDirect || t == targetBare || t == targetTraced || t == targetBeforeTraced
		})
	}
	for _, t := range all {
		if !slices.Contains(b.opts.targets, t) || (t == targetNginx && b.nginx == "") || ((t == targetRouter || t == targetTraced) && b.routerBin == "") ||
			((t == targetBefore || t == targetBeforeTraced) && b.beforeBin == "") {
			continue
		}
		s.targets = append(s.targets, t)
	}
	return s
}

// run runs every scenario, alternating the targets round after round. Each round starts one
// target further along the list, so that no target always runs first or last (on a shared
// machine the position in a round shows in the numbers).
func (b *bench) run(ctx context.Context) {
	for _, id := range b.opts.scenarios {
		s := b.scenario(id)
		logf("scenario %d: %s — %d round(s) of %s", id, s.title, b.opts.rounds, strings.Join(s.targets, ", "))
		for round := 1; round <= b.opts.rounds; round++ {
			k := (round - 1) % len(s.targets)
			for _, t := range append(slices.Clone(s.targets[k:]), s.targets[:k]...) {
				if ctx.Err() != nil {
					return
				}
				r := b.runOne(ctx, s, t, round)
				if ctx.Err() != nil {
					return // cut short by Ctrl-C: not a result
				}
				b.results = append(b.results, r)
				logf("  %s", r.progress(b.opts.rounds))
			}
		}
	}
}

// env is what one run starts: the stub (unless the upstream is down), and nginx or the router.
type env struct {
	target      string
	dir         string
	addr, path  string // where the load goes
	stub, proxy *proc
	measured    *proc // whose CPU and memory the run reports: the proxy, or the stub for direct
	workersOnly bool  // nginx: memory is the workers'
}

func (e *env) down() {
	if e.proxy != nil {
		e.proxy.stop(5 * time.Second)
	}
	if e.stub != nil {
		e.stub.stop(2 * time.Second)
	}
}

// up starts fresh processes for one run, so that each run's peak RSS is its own.
func (b *bench) up(ctx context.Context, s scenario, target string, round int) (*env, error) {
	dir := filepath.Join(b.dir, fmt.Sprintf("s%d-r%d-%s", s.id, round, target))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, err
	}
	e := &env{target: target, dir: dir}
	path, deadline, openFor := "/gifts", b.opts.deadline, 10*time.Second
	var upstream string
	switch s.id {
	case 3:
		path, deadline = hangPath, b.opts.hangDeadline
	case 4:
		// A dead port: bound, then closed, so connecting is refused. Long open_for keeps the
		// router's breaker open for the whole run.
		openFor = 10 * time.Minute
		dead, err := freeAddr()
		if err != nil {
			return nil, err
		}
		upstream = dead
	}
	if s.id != 4 {
		stub, addr, err := b.startStub(ctx, dir)
		if err != nil {
			return nil, fmt.Errorf("stub: %w", err)
		}
		e.stub, upstream = stub, addr
	}
	var err error
	switch target {
	case targetDirect:
		e.addr, e.path, e.measured = upstream, path, e.stub
	case targetNginx:
		e.proxy, e.addr, err = b.startNginx(ctx, dir, upstream, path, deadline)
		e.path, e.measured, e.workersOnly = "/", e.proxy, true
	case targetBare:
		e.proxy, e.addr, err = b.startBare(ctx, dir, upstream, path, deadline)
		e.path, e.measured = "/", e.proxy
	case targetRouter, targetBefore, targetTraced, targetBeforeTraced:
		bin, pipeline := b.routerBin, b.opts.pipeline
		if target == targetBefore || target == targetBeforeTraced {
			bin = b.beforeBin
			if b.opts.beforePipeline >= 0 {
				pipeline = b.opts.beforePipeline
			}
		}
		p := routerParams{UpstreamURL: "http://" + upstream + path, Deadline: deadline, OpenFor: openFor, MaxInFlight: 8192, Pipeline: pipeline}
		if target == targetTraced || target == targetBeforeTraced {
			p.TraceEndpoint = "http://" + upstream // the stub takes the spans, as a collector would
		}
		e.proxy, e.addr, err = b.startRouter(ctx, dir, bin, p)
		e.path, e.measured = "/", e.proxy
	}
	if err != nil {
		e.down()
		return nil, fmt.Errorf("%s: %w", target, err)
	}
	return e, nil
}

// runOne measures one target once.
func (b *bench) runOne(ctx context.Context, s scenario, target string, round int) runResult {
	r := runResult{Scenario: s.id, Target: target, Round: round, Fallbacks: -1}
	e, err := b.up(ctx, s, target, round)
	if err != nil {
		r.Failed = err.Error()
		return r
	}
	switch s.id {
	case 1:
		err = b.runLoad(ctx, e, &r, expectUpstream)
	case 2:
		err = b.runFixedRate(ctx, e, &r)
	case 3:
		err = b.runHang(ctx, e, &r)
	case 4:
		err = b.runBreakerOpen(ctx, e, &r)
	}
	e.down()
	if err != nil {
		r.Failed = err.Error()
	}
	// Fallbacks nobody asked for, over the whole life of the proxy (scenarios 1 and 2).
	if s.id <= 2 {
		switch target {
		case targetDirect:
			r.Fallbacks = 0
		case targetRouter, targetBefore, targetTraced, targetBeforeTraced:
			r.Fallbacks, _ = routerFallbacks(filepath.Join(e.dir, "router.log"))
		case targetBare:
			r.Fallbacks, _ = bareFallbacks(filepath.Join(e.dir, "bare.log"))
		case targetNginx:
			r.Fallbacks, _ = nginxFallbacks(filepath.Join(e.dir, "nginx-access.log"))
		}
	}
	if !b.opts.keep {
		os.RemoveAll(e.dir) // logs of a run at saturation are hundreds of megabytes
	}
	return r
}

// check samples answers one by one and fails the run when none is right.
func (b *bench) check(ctx context.Context, e *env, r *runResult, exp expectation) error {
	bad, first := sample(ctx, e.addr, e.path, b.opts.samples, exp)
	r.SampleBad += bad
	if r.SampleFirst == "" {
		r.SampleFirst = first
	}
	if bad == b.opts.samples {
		return fmt.Errorf("every sampled answer is wrong: %s", first)
	}
	return nil
}

// load runs the closed-loop load of scenarios 1 and 4: wrk, else the Go generator.
func (b *bench) load(ctx context.Context, e *env, dur time.Duration, exp expectation) (loadResult, error) {
	if b.wrk != nil {
		return b.wrk.run(ctx, callbackURL(e.addr, e.path), b.opts.conns, dur)
	}
	return closedLoop(ctx, e.addr, e.path, b.opts.conns, dur, exp), nil
}

// measure reads the measured processes' CPU around f and their peak RSS after it.
func (b *bench) measure(e *env, r *runResult, f func() error) error {
	cpu0 := groupCPU(e.measured.pid)
	if err := f(); err != nil {
		return err
	}
	r.CPU = groupCPU(e.measured.pid) - cpu0
	_, hwm, err := groupMem(memPids(e.measured.pid, e.workersOnly))
	if err != nil {
		return fmt.Errorf("reading %s's memory: %w", e.measured.name, err)
	}
	r.PeakRSS = hwm
	if e.measured.exited() {
		return fmt.Errorf("%s exited during the run; its log ends:\n%s", e.measured.name, e.measured.logTail(10))
	}
	return nil
}

// runLoad is scenario 1 (and the measured part of 4): warm up, then saturate for -duration.
func (b *bench) runLoad(ctx context.Context, e *env, r *runResult, exp expectation) error {
	if err := b.check(ctx, e, r, exp); err != nil {
		return err
	}
	if b.opts.warmup > 0 {
		if _, err := b.load(ctx, e, b.opts.warmup, exp); err != nil {
			return fmt.Errorf("warm-up: %w", err)
		}
	}
	err := b.measure(e, r, func() (err error) {
		r.Load, err = b.load(ctx, e, b.opts.duration, exp)
		return err
	})
	if err != nil {
		return err
	}
	return b.check(ctx, e, r, exp)
}

// runBreakerOpen is scenario 4: open the breaker with failing callbacks, check that answers
// say so, then saturate.
func (b *bench) runBreakerOpen(ctx context.Context, e *env, r *runResult) error {
	// 20 callbacks fail (each tries twice): the router's breaker opens after 5 failed
	// attempts, nginx marks both server entries down for fail_timeout.
	sample(ctx, e.addr, e.path, 20, expectFallback)
	exp := expectFallback
	if e.target == targetRouter || e.target == targetBefore {
		exp.fallback = "breaker_open"
	}
	c := newClient(e.addr, e.path)
	a, _, _, err := c.roundTrip(time.Now().Add(requestTimeout))
	c.close()
	if err != nil {
		return err
	}
	r.Reason = a.fallback
	if bad := exp.check(a); bad != "" {
		return fmt.Errorf("after 20 failing callbacks: %s", bad)
	}
	return b.runLoad(ctx, e, r, exp)
}

// runFixedRate is scenario 2: open loop at -rate for -duration.
func (b *bench) runFixedRate(ctx context.Context, e *env, r *runResult) error {
	if err := b.check(ctx, e, r, expectUpstream); err != nil {
		return err
	}
	if b.opts.warmup > 0 {
		fixedRate(ctx, e.addr, e.path, b.opts.rate, b.opts.rateConns, b.opts.warmup, expectUpstream)
	}
	err := b.measure(e, r, func() error {
		r.Load = fixedRate(ctx, e.addr, e.path, b.opts.rate, b.opts.rateConns, b.opts.duration, expectUpstream)
		return ctx.Err()
	})
	if err != nil {
		return err
	}
	return b.check(ctx, e, r, expectUpstream)
}

// runHang is scenario 3: -hung callbacks at once to an upstream that never answers. It
// measures each answer's lateness past the deadline and the proxy's memory: before the
// connections are opened, with them open and idle, and at its peak while they hang (VmRSS
// sampled every 5 ms, and VmHWM reset just before the callbacks are sent).
func (b *bench) runHang(ctx context.Context, e *env, r *runResult) error {
	pids := memPids(e.measured.pid, e.workersOnly)
	h := &hangStats{}
	r.Hang = h
	var err error
	if h.RSSBase, _, err = groupMem(pids); err != nil {
		return fmt.Errorf("reading %s's memory: %w", e.measured.name, err)
	}
	clients, err := dialAll(ctx, e.addr, e.path, b.opts.hung, 50)
	if err != nil {
		return err
	}
	time.Sleep(200 * time.Millisecond) // let the proxy accept every connection
	h.RSSDialed, _, _ = groupMem(pids)
	h.HWMReset = true
	for _, pid := range pids {
		if resetPeak(pid) != nil {
			h.HWMReset = false
		}
	}

	stop, sampled := make(chan struct{}), make(chan int64, 1)
	go func() {
		var peak int64
		tick := time.NewTicker(5 * time.Millisecond)
		defer tick.Stop()
		limit := int((b.opts.hangDeadline + hangAnswerMargin + 5*time.Second) / (5 * time.Millisecond))
		for range limit {
			if rss, _, err := groupMem(pids); err == nil {
				peak = max(peak, rss)
			}
			select {
			case <-stop:
				sampled <- peak
				return
			case <-tick.C:
			}
		}
		sampled <- peak
	}()
	res := hang(clients, b.opts.hangDeadline, expectFallback)
	close(stop)
	peak := <-sampled
	if _, hwm, err := groupMem(pids); err == nil && h.HWMReset {
		peak = max(peak, hwm)
	}
	h.RSSPeak = peak

	h.Sent, h.Answered, h.Wrong, h.Errors, h.First = res.Sent, res.Answered, res.Wrong, res.Errors, res.First
	var reasons []string
	for reason, n := range res.Reasons {
		if reason == "" {
			reason = "(none)"
		} else {
			h.Fallbacks += n
		}
		reasons = append(reasons, fmt.Sprintf("%s %d", reason, n))
	}
	slices.Sort(reasons)
	h.Reasons = strings.Join(reasons, ", ")
	if len(res.Elapsed) > 0 {
		h.P50 = percentile(res.Elapsed, 50)
		h.P99Late = percentile(res.Elapsed, 99) - b.opts.hangDeadline
		h.MaxLate = res.Elapsed[len(res.Elapsed)-1] - b.opts.hangDeadline
	}
	if e.measured.exited() {
		return fmt.Errorf("%s exited during the run; its log ends:\n%s", e.measured.name, e.measured.logTail(10))
	}
	if h.Answered == 0 {
		return fmt.Errorf("no hung callback was answered: %s", h.First)
	}
	return nil
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(s), "\n")
	return strings.TrimSpace(line)
}
