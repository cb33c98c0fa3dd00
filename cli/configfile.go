package cli

import (
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/callback-router/callback-router/config"
)

// configFlag defines the -config flag of a command that needs a config.
func configFlag(fs *flag.FlagSet) *string {
	return fs.String("config", "", "config file (default $CALLBACK_ROUTER_CONFIG or ./config.yaml)")
}

// loadConfig loads the file the -config flag names (config.ResolvePath says which). When it
// does not load, every problem is printed to stderr, each with its key, and cfg is nil.
func loadConfig(flagPath string, stderr io.Writer) (cfg *config.Config, file string) {
	file = config.ResolvePath(flagPath)
	cfg, err := config.LoadFile(file)
	if err != nil {
		printProblems(stderr, file, err)
		return nil, file
	}
	return cfg, file
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
