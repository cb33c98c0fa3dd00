package testutil

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
)

// Root returns the directory of the router's module, where `go build .` builds the binary
// and the paths of the README (config.yaml, examples/…) are relative to.
func Root() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// Build compiles the callback-router binary to out, with extra go build arguments (-trimpath,
// -ldflags …) before the package. It takes no testing.TB so that a TestMain can build once
// for every test of a package.
func Build(out string, args ...string) error {
	cmd := exec.Command("go", append(append([]string{"build", "-o", out}, args...), ".")...)
	cmd.Dir = Root()
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go build: %v\n%s", err, b)
	}
	return nil
}

// Command returns the binary at bin run with args until ctx ends, in the module's root
// directory (paths such as examples/callbacks/… are relative to it) and an environment
// without the CALLBACK_ROUTER_* variables of the shell running the tests, which would change
// the config under test. Add what a test sets to cmd.Env.
func Command(ctx context.Context, bin string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Dir = Root()
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "CALLBACK_ROUTER_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	return cmd
}
