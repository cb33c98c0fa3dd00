package server

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"sync/atomic"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/proxy"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/tracing"
)

// Server is the callback listener with its handler, route table and delivery backend.
type Server struct {
	table   atomic.Pointer[router.Table]
	queue   delivery.Backend
	handler *Handler
	engine  engine
	ln      net.Listener
	lim     *limitListener // ln, or what it wraps: counts connections for the limits and drains
	log     zerolog.Logger
	tls     bool
	acme    *acmeCerts // the certificate manager when server.tls.acme is set
	obs     Observer
	tracer  *tracing.Tracer
	// settings are the listener's: read once at New from the first table's config, since a
	// reload cannot change them. acmeDir is where ACME's account and certificates are kept.
	settings config.Server
	acmeDir  string
}

// Option configures a Server at New.
type Option func(*Server)

// WithObserver has every answered callback, and every background delivery when o
// implements DeliveryObserver, reported to o.
func WithObserver(o Observer) Option {
	return func(s *Server) {
		if o != nil {
			s.obs = o
		}
	}
}

// WithTracer has callbacks traced by t; nil (tracing off) is the default.
func WithTracer(t *tracing.Tracer) Option {
	return func(s *Server) { s.tracer = t }
}

// New builds a Server for the table's config, delivering async callbacks and journaled
// verdicts through q, which it starts (resolving upstreams in its current route table) and
// closes when it stops. Listen addresses, limits of the HTTP server and the delivery
// backend are fixed here: a reload cannot change them.
func New(t *router.Table, q delivery.Backend, log zerolog.Logger, opts ...Option) *Server {
	cfg := t.CompiledFrom()
	s := &Server{queue: q, log: log, obs: nopObserver{}, settings: cfg.Server,
		acmeDir: cfg.Server.TLS.ACME.CacheDir(cfg.Delivery.Dir)}
	for _, o := range opts {
		o(s)
	}
	s.table.Store(t)
	s.queue.Start(s.upstream, s.deliveryDone())
	s.handler = NewHandler(&s.table, s.queue, log)
	s.handler.observeWith(s.obs)
	s.handler.tracer = s.tracer
	s.engine = newEngine(cfg.Server, s.handler, log)
	return s
}

// deliveryDone passes the backend's outcomes on to the observer, if it wants them.
func (s *Server) deliveryDone() delivery.OnDone {
	if d, ok := s.obs.(DeliveryObserver); ok {
		return d.Delivered
	}
	return nil
}

// upstream finds an upstream of the running table by name, for background deliveries,
// which outlive the table they were queued under.
func (s *Server) upstream(name string) *proxy.Upstream {
	return s.table.Load().Upstream(name)
}

// Queue returns the delivery backend of async routes, for its depth and counts.
func (s *Server) Queue() delivery.Backend { return s.queue }

// Table returns the table callbacks are routed with now.
func (s *Server) Table() *router.Table { return s.table.Load() }

// Swap installs a new table. Callbacks in flight finish on the table they started with.
func (s *Server) Swap(t *router.Table) { s.table.Store(t) }

// Listen binds the callback address. It is separate from Serve so that the bound address
// (port 0 in tests) is known before serving.
func (s *Server) Listen() error {
	cfg := s.settings
	addr := cfg.Listen
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("server.listen %s: %w", addr, err)
	}
	if t := cfg.TLS; t.CertFile != "" {
		// Load the pair now, so a missing or wrong file stops the start with its key named.
		certs, err := newCertReloader(t.CertFile, t.KeyFile, s.log)
		if err != nil {
			ln.Close()
			return fmt.Errorf("server.tls: %w", err)
		}
		s.tls = true
		ln = tls.NewListener(ln, newTLSConfig(certs.get, false))
	} else if t.ACME.Enabled() {
		certs, err := newACMECerts(t.ACME, s.acmeDir, ln.Addr().String(), s.log)
		if err != nil {
			ln.Close()
			return err
		}
		s.tls, s.acme = true, certs
		ln = tls.NewListener(ln, newTLSConfig(certs.getCertificate, true))
	}
	s.lim = newLimitListener(ln, cfg.MaxConns, cfg.MaxConnsPerIP, s.log, s.handler.observeRefusal)
	s.lim.mayConnect = func(ip string) bool { return s.table.Load().Sources.PeerMayConnect(ip) }
	s.ln = s.lim
	return nil
}

// Addr returns the bound address; Listen must have succeeded.
func (s *Server) Addr() net.Addr { return s.ln.Addr() }

// Serve serves callbacks until ctx ends, then drains (see drain: no callback is cut) and lets
// the delivery queue empty, within server.shutdown_timeout.
func (s *Server) Serve(ctx context.Context) error {
	if s.ln == nil {
		if err := s.Listen(); err != nil {
			return err
		}
	}
	cfg := s.settings
	errc := make(chan error, 1)
	go func() {
		errc <- s.engine.serve(s.ln)
	}()
	s.log.Info().Str("listen", s.ln.Addr().String()).Bool("tls", s.tls).Str("engine", cfg.Engine).Msg("serving callbacks")
	if s.acme != nil {
		// Now that the listener serves, it can answer the CA's challenge.
		if err := s.acme.start(); err != nil {
			s.log.Error().Err(err).Msg("cannot manage the certificate")
		}
		defer s.acme.stop()
	}

	select {
	case err := <-errc:
		s.queue.Close(context.Background())
		return err
	case <-ctx.Done():
	}
	s.log.Info().Dur("timeout", cfg.ShutdownTimeout).Msg("shutting down: finishing in-flight callbacks")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.ShutdownTimeout)
	defer cancel()
	err := s.drain(sctx, min(cfg.DrainGrace, cfg.ShutdownTimeout/2))
	s.handler.waitMirrors(sctx) // each ends by its route's deadline
	if left := s.queue.Close(sctx); left > 0 {
		s.log.Warn().Int64("left", left).Msg("async callbacks not delivered before shutdown")
	}
	<-errc
	// Nothing will call the upstreams again: close their pooled connections now rather
	// than leave them to the idle timeout.
	for _, up := range s.table.Load().Upstreams {
		up.CloseIdleConnections()
	}
	if err != nil {
		return fmt.Errorf("shutdown: %w", err)
	}
	s.log.Info().Msg("stopped")
	return nil
}
