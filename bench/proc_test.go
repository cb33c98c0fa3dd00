//go:build linux

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestRouterFallbacksInALargeLog(t *testing.T) {
	// Lines of the router's log, 3 MiB of them: more than the scanner's buffer holds.
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
	n, err := countLines(path, func([]byte) bool { return true })
	if err != nil || n != int64(strings.Count(sb.String(), "\n")) {
		t.Errorf("countLines(every line) = %d, %v; want %d", n, err, strings.Count(sb.String(), "\n"))
	}
	if n, err := countLines(filepath.Join(t.TempDir(), "missing.log"), func([]byte) bool { return true }); err == nil || n != -1 {
		t.Errorf("countLines(missing file) = %d, %v; want -1 and an error", n, err)
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
