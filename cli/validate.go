package cli

import (
	"errors"
	"fmt"
	"io"

	"github.com/callback-router/callback-router/config"
)

// validate checks a config and prints every problem with its key.
func validate(args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("validate", stderr)
	path := fs.String("config", "", "config file (default $CALLBACK_ROUTER_CONFIG or ./config.yaml)")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	file := config.ResolvePath(*path)
	cfg, err := config.LoadFile(file)
	if err != nil {
		printProblems(stderr, file, err)
		return ExitError
	}
	fmt.Fprintf(stdout, "%s: ok (%d upstreams, %d routes)\n", file, len(cfg.Upstreams), len(cfg.Routes))
	return ExitOK
}

// printProblems prints each joined error on its own line.
func printProblems(w io.Writer, file string, err error) {
	var joined interface{ Unwrap() []error }
	errs := []error{err}
	if errors.As(err, &joined) {
		errs = joined.Unwrap()
	}
	fmt.Fprintf(w, "%s: %d problem(s):\n", file, len(errs))
	for _, e := range errs {
		fmt.Fprintf(w, "  %v\n", e)
	}
}
