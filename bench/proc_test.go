//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseStat(t *testing.T) {
	// The command name may hold spaces and parentheses; fields count from the last ')'.
	line := "4242 (nginx: worker (x) y) S 4241 4241 4241 0 -1 4194624 1301 0 0 0 250 75 0 0 20 0 1 0 123 12345 678 18446744073709551615\n"
	st, err := parseStat(line)
	if err != nil {
		t.Fatal(err)
	}
	want := procStat{pid: 4242, ppid: 4241, pgrp: 4241, utime: 250, stime: 75}
	if st != want {
		t.Errorf("parseStat = %+v, want %+v", st, want)
	}
	for _, bad := range []string{"", "12 no parens", "12 (x) S 1 2", "x (y) S 1 2 3 4 5 6 7 8 9 10 11 12 13"} {
		if _, err := parseStat(bad); err == nil {
			t.Errorf("parseStat(%q) = nil error, want one", bad)
		}
	}
}

func TestParseStatOfThisProcess(t *testing.T) {
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Skip("no /proc:", err)
	}
	if st.pid != os.Getpid() || st.ppid != os.Getppid() {
		t.Errorf("readStat(self) = %+v, want pid %d ppid %d", st, os.Getpid(), os.Getppid())
	}
}

func TestParseStatusKB(t *testing.T) {
	status := "Name:\tnginx\nVmPeak:\t   20000 kB\nVmHWM:\t    8192 kB\nVmRSS:\t    4096 kB\nThreads:\t1\n"
	for key, want := range map[string]int64{"VmHWM": 8 << 20, "VmRSS": 4 << 20} {
		got, err := parseStatusKB(status, key)
		if err != nil || got != want {
			t.Errorf("parseStatusKB(%s) = %d, %v; want %d", key, got, err, want)
		}
	}
	if _, err := parseStatusKB(status, "VmSwap"); err == nil {
		t.Error("parseStatusKB of a missing key: nil error")
	}
	if _, err := parseStatusKB("VmRSS:\t12 pages\n", "VmRSS"); err == nil {
		t.Error("parseStatusKB of a malformed line: nil error")
	}
}

func TestCountInFileAcrossChunks(t *testing.T) {
	// Lines of the router's log, with patterns straddling the 1 MiB chunk boundary.
	var sb strings.Builder
	fb := `{"level":"warn","decision":"deny","fallback_reason":"timeout"}` + "\n"
	ok := `{"level":"info","decision":"upstream","status":200}` + "\n"
	want := int64(0)
	for i := 0; sb.Len() < 3<<20; i++ {
		if i%7 == 0 {
			sb.WriteString(fb)
			want++
		} else {
			sb.WriteString(ok)
		}
	}
	path := filepath.Join(t.TempDir(), "router.log")
	if err := os.WriteFile(path, []byte(sb.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := routerFallbacks(path)
	if err != nil || got != want {
		t.Errorf("routerFallbacks = %d, %v; want %d", got, err, want)
	}
	n, err := countInFile(path, "\n")
	if err != nil || n[0] != int64(strings.Count(sb.String(), "\n")) {
		t.Errorf("countInFile(newlines) = %v, %v", n, err)
	}
}

func TestNginxFallbacks(t *testing.T) {
	log := `127.0.0.1 [t] "POST /" 200 461 204 0.000 200 0.000 fb=-
127.0.0.1 [t] "POST /" 200 461 250 1.000 504 1.000 fb=upstream_error
127.0.0.1 [t] "POST /" 200 461 204 0.000 200 0.000 fb=-
127.0.0.1 [t] "POST /" 200 461 230 0.000 - - fb=no_route
`
	path := filepath.Join(t.TempDir(), "access.log")
	if err := os.WriteFile(path, []byte(log), 0o644); err != nil {
		t.Fatal(err)
	}
	if got, err := nginxFallbacks(path); err != nil || got != 2 {
		t.Errorf("nginxFallbacks = %d, %v; want 2", got, err)
	}
}

func TestGroupCPUOfThisProcess(t *testing.T) {
	if _, err := os.Stat("/proc/self/stat"); err != nil {
		t.Skip("no /proc")
	}
	st, err := readStat(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	// The test binary's group holds at least the test binary, which has used some CPU by now.
	if cpu := groupCPU(st.pgrp); cpu < 0 || cpu > time.Hour {
		t.Errorf("groupCPU(own group) = %v", cpu)
	}
}
