//go:build image

package imagetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
)

// env returns the environment variable name, else def.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

var (
	// podmanCmd is podman with the global flags this machine needs (PODMAN, space-separated).
	podmanCmd     = strings.Fields(env("PODMAN", "podman"))
	routerImage   = env("ROUTER_IMAGE", "callback-router:latest")
	upstreamImage = env("UPSTREAM_IMAGE", "callback-router-example-upstream:latest")
)

// repoRoot is the repository's top directory, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// routerBin is the router binary on the host, for `send` and `validate`: the one the image
// was built from, unless ROUTER_BIN names another.
func routerBin(t *testing.T) string {
	t.Helper()
	bin := env("ROUTER_BIN", filepath.Join(repoRoot(t), "build", "image", "callback-router"))
	if _, err := os.Stat(bin); err != nil {
		t.Fatalf("router binary: %v (run `make image` first, or set ROUTER_BIN)", err)
	}
	return bin
}

// podman runs podman with args, bounded by a minute, and returns its combined output.
func podman(args ...string) (string, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	all := append(append([]string{}, podmanCmd[1:]...), args...)
	out, err := exec.CommandContext(ctx, podmanCmd[0], all...).CombinedOutput()
	if err != nil {
		return string(out), fmt.Errorf("podman %s: %w\n%s", strings.Join(args, " "), err, out)
	}
	return string(out), nil
}

// mustPodman is podman that fails the test on error.
func mustPodman(t *testing.T, args ...string) string {
	t.Helper()
	out, err := podman(args...)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// runBin runs the host's router binary with args, bounded by 30 s.
func runBin(t *testing.T, args ...string) (string, int) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, routerBin(t), args...).CombinedOutput()
	if exit, ok := err.(*exec.ExitError); ok {
		return string(out), exit.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %v: %v", routerBin(t), args, err)
	}
	return string(out), 0
}

// freePort returns a loopback port that was free a moment ago; with --network host the
// containers bind it on this machine.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// waitUntil polls cond every 200 ms until it holds or limit passes.
func waitUntil(t *testing.T, limit time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	var last string
	for end := time.Now().Add(limit); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
		var ok bool
		if ok, last = cond(); ok {
			return
		}
	}
	t.Fatalf("%s: not within %s; last: %s", what, limit, last)
}

// waitHealthy runs the image's HEALTHCHECK (podman healthcheck run) until it passes.
func waitHealthy(t *testing.T, container string) {
	t.Helper()
	waitUntil(t, 30*time.Second, container+" healthy", func() (bool, string) {
		out, err := podman("healthcheck", "run", container)
		if err != nil {
			logs, _ := podman("logs", "--tail", "20", container)
			return false, err.Error() + "\nlogs:\n" + logs
		}
		return true, out
	})
}

// writeConfigDir writes config.yaml into a fresh directory the container's user (65532) can
// read, and returns the directory.
func writeConfigDir(t *testing.T, yaml string) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(yaml), 0o644); err != nil {
		t.Fatal(err)
	}
	return dir
}
