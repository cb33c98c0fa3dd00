package testutil

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ResidentKiB returns the resident set of process pid (os.Getpid() for the test itself)
// from /proc, in KiB; 0 where there is no /proc or no such process.
func ResidentKiB(pid int) int {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0
	}
	for line := range strings.SplitSeq(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			n, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return n
		}
	}
	return 0
}
