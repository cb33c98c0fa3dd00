// Package cli is callback-router's command line: serve (the default), validate, routes, send,
// queue, healthcheck and version. Each command parses its own flags, opens the config the
// same way (-config, else $CALLBACK_ROUTER_CONFIG, else ./config.yaml, every problem printed
// by key) and returns an exit code; main only wires the process's arguments, streams and
// signals to Main.
package cli

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Exit codes.
const (
	ExitOK    = 0
	ExitError = 1 // the command ran and found a problem (invalid config, failed send)
	ExitUsage = 2 // the command line itself is wrong
)

const usage = `callback-router routes Tencent Live and Chat callbacks to upstream services.

Usage:
  callback-router [serve] [-config config.yaml] [-log-format json|console] [-log-level L]
  callback-router validate [-config F]
  callback-router routes [-config F] [-command C]
  callback-router send [-config F] [-url U] [-token T] [-sdkappid N] FILE|COMMAND
  callback-router queue stats|list|replay|drop [-config F] [-state pending|dead] [-id N,…] [-event E] [-command C] [-from T] [-to T]
  callback-router healthcheck [-config F] [-url U]
  callback-router version

The config file is -config, else $CALLBACK_ROUTER_CONFIG, else ./config.yaml.
Environment variables override keys: CALLBACK_ROUTER_TENCENT_AUTH_TOKEN sets tencent.auth_token.
`

// Main runs the command named by args[0] (serve when absent or a flag) and returns the exit code.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	cmd := "serve"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	switch cmd {
	case "serve":
		return serve(ctx, args, stdout, stderr)
	case "validate":
		return validate(args, stdout, stderr)
	case "routes":
		return routes(args, stdout, stderr)
	case "send":
		return send(ctx, args, stdout, stderr)
	case "queue":
		return queueCmd(args, stdout, stderr)
	case "healthcheck":
		return healthcheck(ctx, args, stdout, stderr)
	case "version":
		fmt.Fprintln(stdout, versionLine())
		return ExitOK
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return ExitOK
	}
	fmt.Fprintf(stderr, "callback-router: unknown command %q\n\n%s", cmd, usage)
	return ExitUsage
}

// newFlagSet returns a flag set that reports errors to stderr and does not exit.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet("callback-router "+name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses args and rejects stray positional arguments beyond want.
func parseFlags(fs *flag.FlagSet, args []string, want int) (int, bool) {
	if err := fs.Parse(args); err != nil {
		if err == flag.ErrHelp {
			return ExitOK, false
		}
		return ExitUsage, false
	}
	if fs.NArg() != want {
		fmt.Fprintf(fs.Output(), "%s: expected %d argument(s), got %d: %q\n", fs.Name(), want, fs.NArg(), fs.Args())
		return ExitUsage, false
	}
	return ExitOK, true
}
