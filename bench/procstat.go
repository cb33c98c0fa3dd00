//go:build linux

package main

import (
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/procfs"
)

// The CPU and memory of the processes under test, read from /proc with prometheus/procfs:
// utime and stime from /proc/<pid>/stat, VmRSS and VmHWM from /proc/<pid>/status.

// procFS is /proc. The bench runs on Linux only; without /proc every reading fails with
// procFSErr, and the run says so.
var procFS, procFSErr = procfs.NewDefaultFS()

// groupStats returns the stat of every live process in process group pgid.
func groupStats(pgid int) []procfs.ProcStat {
	if procFSErr != nil {
		return nil
	}
	all, err := procFS.AllProcs()
	if err != nil {
		return nil
	}
	var out []procfs.ProcStat
	for _, p := range all {
		if st, err := p.Stat(); err == nil && st.PGRP == pgid {
			out = append(out, st)
		}
	}
	return out
}

// groupCPU returns the CPU time (user + system) used so far by the live processes of group
// pgid. Every process the bench measures is long-lived (nginx workers included), so a
// difference of two readings is the CPU used in between.
func groupCPU(pgid int) time.Duration {
	var seconds float64
	for _, st := range groupStats(pgid) {
		seconds += st.CPUTime()
	}
	return time.Duration(seconds * float64(time.Second))
}

// memOf returns the current (VmRSS) and peak (VmHWM) resident set of a process, in bytes.
// A process that has exited but not been reaped has neither: that is an error, not zero.
func memOf(pid int) (rss, hwm int64, err error) {
	if procFSErr != nil {
		return 0, 0, procFSErr
	}
	p, err := procFS.Proc(pid)
	if err != nil {
		return 0, 0, err
	}
	st, err := p.NewStatus()
	if err != nil {
		return 0, 0, err
	}
	if st.VmRSS == 0 {
		return 0, 0, fmt.Errorf("process %d has no resident memory (it has exited)", pid)
	}
	return int64(st.VmRSS), int64(st.VmHWM), nil
}

// resetPeak resets a process's VmHWM to its current RSS (Linux ≥ 4.0); procfs only reads.
func resetPeak(pid int) error {
	return os.WriteFile(fmt.Sprintf("/proc/%d/clear_refs", pid), []byte("5"), 0)
}

// memPids returns the processes whose memory counts for a measured process group: the
// leader alone, or for nginx (workersOnly) every member but the master.
func memPids(pgid int, workersOnly bool) []int {
	if !workersOnly {
		return []int{pgid}
	}
	var out []int
	for _, st := range groupStats(pgid) {
		if st.PID != pgid {
			out = append(out, st.PID)
		}
	}
	return out
}

// groupMem sums VmRSS and VmHWM over pids. It fails when any process cannot be read.
func groupMem(pids []int) (rss, hwm int64, err error) {
	if len(pids) == 0 {
		return 0, 0, errors.New("no process to measure")
	}
	for _, pid := range pids {
		r, h, err := memOf(pid)
		if err != nil {
			return 0, 0, err
		}
		rss += r
		hwm += h
	}
	return rss, hwm, nil
}
