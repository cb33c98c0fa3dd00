package server

import (
	"context"
	"net"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
)

// engine is the connection layer: it accepts connections on a listener, reads each request
// into an Inbound, lets the Handler answer, and writes the Outbound. Everything about
// callbacks lives in Handler; an engine only moves bytes and enforces the server limits.
type engine interface {
	serve(ln net.Listener) error
	// shutdown stops accepting, lets requests in progress finish and closes idle
	// connections, until ctx ends.
	shutdown(ctx context.Context) error
}

func newEngine(cfg config.Server, h *Handler, log zerolog.Logger) engine {
	if cfg.Engine == config.EngineNetHTTP {
		return newNetHTTPEngine(cfg, h, log)
	}
	return newFastEngine(cfg, h, log)
}
