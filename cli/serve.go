package cli

import (
	"context"
	"io"
	"os"
	"os/signal"
	"syscall"

	"github.com/rs/zerolog"
	"github.com/sony/gobreaker/v2"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/logging"
	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/server"
)

// serve runs the router until SIGTERM or SIGINT, reloading the config on SIGHUP.
func serve(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("serve", stderr)
	path := fs.String("config", "", "config file (default $CALLBACK_ROUTER_CONFIG or ./config.yaml)")
	format := fs.String("log-format", "", "json or console (default: log.format from the config)")
	level := fs.String("log-level", "", "debug, info, warn or error (default: log.level from the config)")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	file := config.ResolvePath(*path)
	cfg, err := config.LoadFile(file)
	if err != nil {
		printProblems(stderr, file, err)
		return ExitError
	}
	out := logging.NewBuffered(stdout) // one write per callback would cost more than routing it
	defer out.Close()
	log, err := logging.New(out, or(*format, cfg.Log.Format), or(*level, cfg.Log.Level))
	if err != nil {
		printProblems(stderr, "flags", err)
		return ExitUsage
	}
	opts := compileOptions(log)
	table, err := router.Compile(cfg, opts)
	if err != nil {
		log.Error().Err(err).Msg("cannot build the route table")
		return ExitError
	}
	warnOpenDoors(log, table)
	srv := server.New(table, log)
	if err := srv.Listen(); err != nil {
		log.Error().Err(err).Msg("cannot listen")
		return ExitError
	}

	ctx, stop := signal.NotifyContext(ctx, syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	go reloadOnHangup(ctx, file, srv, opts, log)
	log.Info().Str("config", file).Int("routes", len(table.Routes)).Int("upstreams", len(table.Upstreams)).
		Str("version", versionLine()).Msg("callback-router started")
	if err := srv.Serve(ctx); err != nil {
		log.Error().Err(err).Msg("server stopped with an error")
		return ExitError
	}
	return ExitOK
}

// compileOptions logs breaker transitions, and hands go-retryablehttp a logger only at debug
// level: it logs every request, which costs allocations on the hot path.
func compileOptions(log zerolog.Logger) router.Options {
	opts := router.Options{
		OnBreakerChange: func(upstream, instance string, from, to gobreaker.State) {
			log.Warn().Str("upstream", upstream).Str("instance", instance).
				Str("from", from.String()).Str("to", to.String()).Msg("circuit breaker changed state")
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
	if len(t.Tokens) == 0 {
		log.Warn().Msg("tencent.auth_token is not set: callbacks are not authenticated (set it, and the same token in Tencent's console)")
	}
}

// reloadOnHangup reloads the config on SIGHUP; an invalid file is refused and the running
// table stays.
func reloadOnHangup(ctx context.Context, file string, srv *server.Server, opts router.Options, log zerolog.Logger) {
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	for {
		select {
		case <-ctx.Done():
			return
		case <-hup:
		}
		cfg, err := config.LoadFile(file)
		if err == nil {
			var t *router.Table
			if t, err = router.Compile(cfg, opts); err == nil {
				srv.Swap(t)
				log.Info().Str("config", file).Int("routes", len(t.Routes)).Msg("config reloaded")
				continue
			}
		}
		log.Error().Err(err).Str("config", file).Msg("config reload refused; the running config stays")
	}
}

func or(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
