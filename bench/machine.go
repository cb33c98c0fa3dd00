//go:build linux

package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"
)

// The machine a report was measured on: CPUs, memory, kernel, tools and versions, the
// commit, and the load average before and after (another process on the machine moves every
// number).

type machineInfo struct {
	nproc                      int
	cpuModel, memTotal, kernel string
	osName, goVersion          string
	nginx, wrk, router, commit string
	before                     string // the -before binary's version line
	loadStart, loadEnd         string
	date                       time.Time
}

func describeMachine(ctx context.Context, root string) machineInfo {
	m := machineInfo{nproc: runtime.NumCPU(), date: time.Now(), loadStart: readLoadAvg()}
	if procFSErr == nil {
		if cpus, err := procFS.CPUInfo(); err == nil && len(cpus) > 0 {
			m.cpuModel = cpus[0].ModelName
		}
		if mem, err := procFS.Meminfo(); err == nil && mem.MemTotalBytes != nil {
			m.memTotal = fmt.Sprintf("%.1f GiB", float64(*mem.MemTotalBytes)/(1<<30))
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.kernel = strings.TrimSpace(string(b))
	}
	if b, err := os.ReadFile("/etc/os-release"); err == nil {
		for line := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "PRETTY_NAME="); ok {
				m.osName = strings.Trim(v, `"`)
			}
		}
	}
	if out, _, err := runCmd(ctx, 30*time.Second, root, nil, "go", "version"); err == nil {
		m.goVersion = strings.TrimSpace(out)
	}
	if out, _, err := runCmd(ctx, 10*time.Second, root, nil, "git", "rev-parse", "--short", "HEAD"); err == nil {
		m.commit = strings.TrimSpace(out)
		if st, _, err := runCmd(ctx, 10*time.Second, root, nil, "git", "status", "--porcelain", "--untracked-files=no"); err == nil && strings.TrimSpace(st) != "" {
			m.commit += " + uncommitted changes"
		}
	}
	return m
}

// readLoadAvg returns the 1, 5 and 15 minute load averages, as /proc/loadavg shows them.
func readLoadAvg() string {
	if procFSErr != nil {
		return ""
	}
	l, err := procFS.LoadAvg()
	if err != nil {
		return ""
	}
	return fmt.Sprintf("%.2f %.2f %.2f", l.Load1, l.Load5, l.Load15)
}

func (m machineInfo) markdown() string {
	rows := [][]string{
		{"CPUs (nproc)", strconv.Itoa(m.nproc)},
		{"CPU model", orDash(m.cpuModel)},
		{"memory", orDash(m.memTotal)},
		{"kernel", orDash(m.kernel)},
		{"OS", orDash(m.osName)},
		{"go", orDash(m.goVersion)},
		{"nginx", orDash(m.nginx)},
		{"wrk", orDash(m.wrk)},
		{"router", orDash(m.router)},
		{"before (-before)", orDash(m.before)},
		{"commit", orDash(m.commit)},
		{"load average (1, 5, 15 min) at start / end", orDash(m.loadStart) + " / " + orDash(m.loadEnd)},
		{"date", m.date.Format(time.RFC3339)},
	}
	var sb strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&sb, "- %s: %s\n", r[0], r[1])
	}
	return sb.String()
}
