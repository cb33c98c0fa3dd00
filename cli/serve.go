package cli

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/netip"
	"os/signal"
	"slices"
	"sync/atomic"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/admin"
	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/delivery"
	"github.com/callback-router/callback-router/logging"
	"github.com/callback-router/callback-router/metrics"
	"github.com/callback-router/callback-router/redact"
	"github.com/callback-router/callback-router/reload"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
	"github.com/callback-router/callback-router/stats"
)

// serve runs the router until SIGTERM or SIGINT, reloading the config on SIGHUP and when the
// file changes, with the admin listener beside the callback listener.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	path := configFlag(fs)
	format := fs.String("log-format", "", "json or console (default: log.format from the config)")
	level := fs.String("log-level", "", "debug, info, warn or error (default: log.level from the config)")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	cfg, file := loadConfig(*path, stderr)
	if cfg == nil {
		return ExitError
	}
	out := logging.NewBuffered(stdout) // one write per callback would cost more than routing it
	defer out.Close()
	log, err := logging.New(out, or(*format, cfg.Log.Format), or(*level, cfg.Log.Level))
	if err != nil {
		printProblems(stderr, "flags", err)
		return ExitUsage
	}
	tracer, stopTracing, err := startTracing(cfg.Tracing, log)
	if err != nil {
		log.Error().Err(err).Msg("cannot start tracing")
		return ExitError
	}
	defer stopTracing() // after the server has drained: the last spans are its callbacks'
	m, live := metrics.New(), stats.New()
	if tracer != nil {
		m.WatchTracing(tracer.Counts)
	}
	opts := compileOptions(log, m, live)
	opts.Tracer = tracer
	table, err := router.Compile(cfg, opts)
	if err != nil {
		log.Error().Err(err).Msg("cannot build the route table")
		return ExitError
	}
	warnOpenDoors(log, table)
	warnExposedAdmin(log, cfg.Server)
	queue, err := openQueue(cfg, log, tracer)
	if err != nil {
		log.Error().Err(err).Msg("cannot open the delivery store")
		return ExitError
	}
	srv := server.New(table, queue, log, server.WithObserver(server.Observers(m, live)), server.WithTracer(tracer))
	installed := func(t *router.Table) { m.Install(t); live.Install(t) }
	installed(table)
	m.Watch(srv.Table, srv.Queue())
	if err := srv.Listen(); err != nil {
		log.Error().Err(err).Msg("cannot listen")
		queue.Close(context.Background())
		return ExitError
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	var serving atomic.Bool // /readyz: the callback listener is up and not shutting down
	serving.Store(true)
	context.AfterFunc(ctx, func() { serving.Store(false) })

	reloader := reload.New(reload.Options{
		File: file, Target: srv, Compile: opts, OnInstall: installed, OnResult: m.Reloaded, Logger: log,
	})
	reloaderDone := reloader.Start(ctx)
	defer func() { stop(); <-reloaderDone }()

	stopAdmin, ok := startAdmin(cfg.Server.AdminListen, admin.Options{
		Table: srv.Table, Ready: serving.Load, Metrics: m, Live: live, Reload: reloader.Status,
		Queue: srv.Queue(), Deliveries: manager(queue), Version: versionLine(), Logger: log, Token: cfg.Server.AdminToken,
		Hosts: adminHosts(cfg.Server),
	}, log)
	if !ok {
		return ExitError
	}
	log.Info().Str("config", file).Int("routes", len(table.Routes)).Int("upstreams", len(table.Upstreams)).
		Str("version", versionLine()).Msg("callback-router started")
	code := ExitOK
	if err := srv.Serve(ctx); err != nil {
		log.Error().Err(err).Msg("server stopped with an error")
		code = ExitError
	}
	stop()
	// The admin listener stayed up (not ready) while callbacks drained; it stops with them.
	if err := stopAdmin(); err != nil {
		log.Error().Err(err).Msg("admin listener stopped with an error")
	}
	return code
}

// startAdmin binds the admin listener and serves it until the returned stop is called; there
// is none when addr is empty. ok is false when the address cannot be bound, which stops the
// start as a taken callback port does.
func startAdmin(addr string, opts admin.Options, log zerolog.Logger) (stop func() error, ok bool) {
	if addr == "" {
		log.Info().Msg("server.admin_listen is empty: no /metrics, health checks or status page")
		return func() error { return nil }, true
	}
	adm := admin.New(opts)
	if err := adm.Listen(addr); err != nil {
		log.Error().Err(err).Msg("cannot listen")
		return nil, false
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- adm.Serve(ctx) }()
	return func() error { cancel(); return <-done }, true
}

// compileOptions logs breaker transitions and incoming query parameters an upstream URL's own
// shadowed (at debug, by name only: the values are a caller's or a credential), and hands go-retryablehttp a logger only at debug
// level: it logs every request, which costs allocations on the hot path.
func compileOptions(log zerolog.Logger, m *metrics.Metrics, live *stats.Live) router.Options {
	opts := router.Options{
		// Runs under the breaker's lock: none of these calls back into a breaker.
		OnBreakerChange: func(upstream, instance string, from, to gobreaker.State) {
			log.Warn().Str("upstream", upstream).Str("instance", instance).
				Str("from", from.String()).Str("to", to.String()).Msg("circuit breaker changed state")
			m.BreakerChanged(upstream, instance, from, to)
			live.BreakerChanged(upstream, instance, from, to)
		},
		OnQueryParamDropped: func(upstream, param, requestID string) {
			log.Debug().Str("request_id", requestID).Str("upstream", upstream).Str("param", param).
				Msg("incoming query parameter not forwarded: the upstream URL sets it")
			m.QueryParamDropped(upstream, param, requestID)
		},
		// A pipelining upstream's client meets connection failures between attempts.
		ConnLog: func(format string, args ...any) {
			log.Warn().Str("component", "upstream").Msg(redact.Text(fmt.Sprintf(format, args...)))
		},
	}
	if log.GetLevel() <= zerolog.DebugLevel {
		opts.RetryLogger = logging.Leveled{L: log.With().Str("component", "retryablehttp").Logger()}
	}
	return opts
}

// warnOpenDoors says at start what the config leaves open.
func warnOpenDoors(log zerolog.Logger, t *router.Table) {
	if t.ServesAnyApp() {
		log.Warn().Msg("tencent.sdk_app_ids is empty: callbacks of any SdkAppid are served")
	}
	warnTRTCKeys(log, t)
	if len(t.CompiledFrom().Tencent.Apps) == 0 {
		if len(t.Apps[0].Tokens) == 0 {
			log.Warn().Msg("tencent.auth_token is not set: callbacks are not authenticated (set it, and the same token in Tencent's console)")
		}
		return
	}
	for _, a := range t.Apps {
		if len(a.Tokens) == 0 {
			log.Warn().Str("app", a.Name).Msg("this app has no token in tencent.apps: its callbacks are not authenticated (set tokens or tokens_file, and the same token in Tencent's console)")
		}
	}
	warnSharedTokens(log, t)
}

// warnSharedTokens says at start which apps share a token. Tencent's Sign covers the token
// and the time, not the SdkAppid, so a callback signed for one of them verifies as the
// other's: apps that share a token are not kept apart.
func warnSharedTokens(log zerolog.Logger, t *router.Table) {
	for i, a := range t.Apps {
		for _, b := range t.Apps[i+1:] {
			if slices.ContainsFunc(a.Tokens, func(tok string) bool { return slices.Contains(b.Tokens, tok) }) {
				log.Warn().Str("app", a.Name).Str("other_app", b.Name).Msg("these apps share a token: a callback signed for one verifies as the other's (give each app its own token in Tencent's console)")
			}
		}
	}
}

// warnTRTCKeys says at start which apps refuse the TRTC events the config routes: an app
// whose Chat and Live callbacks are signed takes TRTC events only with a TRTC key, so that
// unsigned events are not a way around its tokens.
func warnTRTCKeys(log zerolog.Logger, t *router.Table) {
	if t.TRTCPath == "" && !slices.ContainsFunc(t.CompiledFrom().Routes, config.Route.TRTCOnly) {
		return // no TRTC event is routed on its own; one reaching a catch-all is refused the same way
	}
	for _, a := range t.Apps {
		if a.TRTCKey == "" && len(a.Tokens) > 0 {
			log.Warn().Str("app", a.Name).Msg("this app's callbacks are signed but it has no TRTC key: its TRTC events are refused with 401 (set trtc_key or trtc_key_file, and the same key in TRTC's console)")
		}
	}
}

// warnExposedAdmin says at start that the admin listener is reachable from other hosts
// without a token: /routes, /metrics and the status page describe the whole deployment.
func warnExposedAdmin(log zerolog.Logger, s config.Server) {
	if s.AdminListen != "" && s.AdminToken == "" && !isLoopback(s.AdminListen) {
		log.Warn().Str("admin_listen", s.AdminListen).
			Msg("server.admin_listen is not a loopback address and server.admin_token is not set: anyone who reaches it sees routes and metrics (set CALLBACK_ROUTER_SERVER_ADMIN_TOKEN)")
	}
}

// adminHosts are the names the admin listener answers to without a token: server.admin_hosts
// and the name admin_listen binds, if it names one (the operator chose it; an attacker's
// rebound name is never it).
func adminHosts(s config.Server) []string {
	hosts := slices.Clone(s.AdminHosts)
	if host, _, err := net.SplitHostPort(s.AdminListen); err == nil && host != "" {
		if _, err := netip.ParseAddr(host); err != nil {
			hosts = append(hosts, host)
		}
	}
	return hosts
}

// isLoopback reports whether a listen address binds loopback only; an empty host binds
// every interface.
func isLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip, err := netip.ParseAddr(host)
	return err == nil && ip.IsLoopback()
}

// manager returns the queue's management surface, nil when it has none.
func manager(q any) delivery.Manager {
	m, _ := q.(delivery.Manager)
	return m
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
