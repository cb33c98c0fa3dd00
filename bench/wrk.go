//go:build linux

package main

import (
	"context"
	_ "embed"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

//go:embed wrk/post.lua
var postLua []byte

// wrkRunner runs wrk with bench/wrk/post.lua.
type wrkRunner struct {
	bin    string
	script string // post.lua, written into the bench's directory
}

func newWrk(dir string) (*wrkRunner, error) {
	bin, err := exec.LookPath("wrk")
	if err != nil {
		return nil, fmt.Errorf("wrk not found (apt-get install wrk)")
	}
	script := filepath.Join(dir, "post.lua")
	if err := os.WriteFile(script, postLua, 0o644); err != nil {
		return nil, err
	}
	return &wrkRunner{bin: bin, script: script}, nil
}

// wrkArgs is the command line: wrk -t2 -c<conns> -d<secs> --latency -s post.lua URL. wrk takes
// whole seconds.
func (w *wrkRunner) args(url string, conns int, dur time.Duration) []string {
	secs := max(1, int(math.Ceil(dur.Seconds())))
	return []string{w.bin, "-t", strconv.Itoa(min(2, conns)), "-c", strconv.Itoa(conns),
		"-d", strconv.Itoa(secs) + "s", "--latency", "--timeout", "5s", "-s", w.script, url}
}

// run drives url for dur and returns wrk's measurement.
func (w *wrkRunner) run(ctx context.Context, url string, conns int, dur time.Duration) (loadResult, error) {
	args := w.args(url, conns, dur)
	stdout, stderr, err := runCmd(ctx, dur+30*time.Second, "", nil, args...)
	if err != nil {
		return loadResult{}, fmt.Errorf("%s: %v\n%s%s", strings.Join(args, " "), err, stdout, stderr)
	}
	r, err := parseWrk(stdout)
	if err != nil {
		return loadResult{}, fmt.Errorf("%s: %v; its output:\n%s%s", strings.Join(args, " "), err, stdout, stderr)
	}
	return r, nil
}

// parseWrk reads the "BENCH key value" lines post.lua's done() prints (latencies in µs).
func parseWrk(out string) (loadResult, error) {
	v := map[string]int64{}
	for line := range strings.SplitSeq(out, "\n") {
		f := strings.Fields(line)
		if len(f) != 3 || f[0] != "BENCH" {
			continue
		}
		n, err := strconv.ParseInt(f[2], 10, 64)
		if err != nil {
			return loadResult{}, fmt.Errorf("wrk output line %q: %v", line, err)
		}
		v[f[1]] = n
	}
	for _, k := range []string{"requests", "duration_us", "latency_p50_us", "latency_p99_us", "latency_p999_us"} {
		if _, ok := v[k]; !ok {
			return loadResult{}, fmt.Errorf("no %q line in wrk's output (is post.lua's done() running?)", "BENCH "+k)
		}
	}
	us := func(k string) time.Duration { return time.Duration(v[k]) * time.Microsecond }
	r := loadResult{
		Requests:     v["requests"],
		Elapsed:      us("duration_us"),
		P50:          us("latency_p50_us"),
		P99:          us("latency_p99_us"),
		P999:         us("latency_p999_us"),
		Max:          us("latency_max_us"),
		SocketErrors: v["errors_connect"] + v["errors_read"] + v["errors_write"] + v["errors_timeout"],
		StatusErrors: v["errors_status"],
	}
	if r.SocketErrors > 0 {
		r.FirstProblem = fmt.Sprintf("wrk socket errors: connect %d, read %d, write %d, timeout %d",
			v["errors_connect"], v["errors_read"], v["errors_write"], v["errors_timeout"])
	} else if r.StatusErrors > 0 {
		r.FirstProblem = fmt.Sprintf("wrk: %d answers were not 2xx/3xx", r.StatusErrors)
	}
	return r, nil
}
