package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/stats"
)

// Server limits. The admin listener serves people and Prometheus, not Tencent: generous
// enough for a slow scrape, tight enough that a stuck client holds nothing for long.
const (
	readHeaderTimeout = 5 * time.Second
	readTimeout       = 10 * time.Second
	writeTimeout      = 30 * time.Second
	idleTimeout       = 60 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 5 * time.Second
)

// Options are what the admin surface reads. Table is required; any other may be nil, and
// what it would show is left out.
type Options struct {
	// Table returns the route table callbacks are routed with now.
	Table func() *router.Table
	// Ready reports whether the callback listener is up; /readyz also wants a table.
	Ready func() bool
	// Metrics is served at /metrics.
	Metrics *metrics.Metrics
	// Live feeds the status page's rates, latencies and recent fallbacks.
	Live *stats.Live
	// Reload returns the reload status (when the config was loaded, failures).
	Reload func() reload.Status
	// Queue is the async delivery queue, for its depth.
	Queue metrics.Queue
	// Deliveries, if set, is served at /queue/… for `callback-router queue`.
	Deliveries delivery.Manager
	// Version is shown on the status page.
	Version string
	// Token, when set, is required as a bearer token on every path but /healthz, /readyz
	// and the status page's static shell (server.admin_token). It is never logged.
	Token string
	// Hosts are the host names the listener answers to when Token is empty, besides IP
	// addresses and localhost (server.admin_hosts, and admin_listen's name if it has one).
	Hosts  []string
	Logger zerolog.Logger
}

// Server is the admin listener.
type Server struct {
	opts    Options
	started time.Time
	http    *http.Server
	ln      net.Listener
}

// New returns an admin Server; Listen and Serve run it.
func New(opts Options) *Server {
	s := &Server{opts: opts, started: time.Now()}
	s.http = &http.Server{
		Handler:           s.Handler(),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
	}
	return s
}

// Handler routes the admin paths.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.HandleFunc("GET /readyz", s.readyz)
	mux.HandleFunc("GET /routes", s.routes)
	mux.HandleFunc("GET /status.json", s.statusJSON)
	mux.HandleFunc("GET /{$}", s.statusPage)
	if s.opts.Metrics != nil {
		mux.Handle("GET /metrics", s.opts.Metrics.Handler())
	}
	if s.opts.Deliveries != nil {
		mux.HandleFunc("GET /queue/stats", s.queueStats)
		mux.HandleFunc("GET /queue/list", s.queueList)
		mux.HandleFunc("POST /queue/replay", s.queueChange(true))
		mux.HandleFunc("POST /queue/drop", s.queueChange(false))
	}
	// Replay and drop change state on a POST: a web page the operator has open must not be
	// able to send one to a loopback listener with no token (a plain cross-site form would).
	// Requests without browser origin headers, as the queue command sends, pass.
	h := http.NewCrossOriginProtection().Handler(mux)
	if s.opts.Token == "" {
		return requireKnownHost(s.opts.Hosts, h)
	}
	return requireToken(s.opts.Token, h)
}

// Listen binds addr, so that a taken port stops the start with its key named.
func (s *Server) Listen(addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server.admin_listen %s: %w", addr, err)
	}
	s.ln = ln
	return nil
}

// Addr returns the bound address; Listen must have succeeded.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves until ctx ends, then shuts down within a few seconds.
func (s *Server) Serve(ctx context.Context) error {
	errc := make(chan error, 1)
	go func() {
		err := s.http.Serve(s.ln)
		if errors.Is(err, http.ErrServerClosed) {
			err = nil
		}
		errc <- err
	}()
	s.opts.Logger.Info().Str("admin_listen", s.ln.Addr().String()).Msg("serving admin: /healthz /readyz /metrics /routes and the status page")
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	err := s.http.Shutdown(sctx)
	<-errc
	return err
}
