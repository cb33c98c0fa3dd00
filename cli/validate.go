package cli

import (
	"fmt"
	"io"
)

// validate checks a config and prints every problem with its key.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	path := configFlag(fs)
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	cfg, file := loadConfig(*path, stderr)
	if cfg == nil {
		return ExitError
	}
	fmt.Fprintf(stdout, "%s: ok (%d upstreams, %d routes)\n", file, len(cfg.Upstreams), len(cfg.Routes))
	return ExitOK
}
