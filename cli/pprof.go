//go:build pprof

package cli

import (
	"net/http"
	_ "net/http/pprof" // registers /debug/pprof on the default mux
	"os"
)

// A binary built with -tags pprof serves Go's profiler on $CALLBACK_ROUTER_PPROF (a loopback
// address), for profiling the hot path under load. Release builds do not include it.
func init() {
	if addr := os.Getenv("CALLBACK_ROUTER_PPROF"); addr != "" {
		go http.ListenAndServe(addr, nil) //nolint:gosec // opt-in debugging on an address the operator chose
	}
}
