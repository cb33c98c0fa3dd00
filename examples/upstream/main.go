// Command upstream is an example backend for callback-router: the service the router forwards
// Tencent Live/Chat callbacks to. It answers like Tencent expects an app backend to answer —
// HTTP 200 with {"ActionStatus":"OK","ErrorCode":N,"ErrorInfo":"..."} — and serves three paths:
//
//   - /gifts decides Live.CallbackBeforeSendGift from an in-memory coin balance per sender,
//     deducting each allowed gift once even when the router retries it (gifts.go);
//   - /moderation masks blocked words in Group.CallbackBeforeSendMsg and C2C.CallbackBeforeSendMsg
//     text and answers the rewritten MsgBody, or drops a message silently (moderation.go);
//   - /events logs one line per notification and answers allow (events.go).
//
// State lives in memory only: a restart forgets balances. It is a demonstration and a test
// double, not a wallet.
//
// Run it next to the router:
//
//	go run ./examples/upstream -listen 127.0.0.1:9001 -start-coins 5000 -block badword,spam -drop scam
//
// with routes such as these in the router's config.yaml:
//
//	upstreams:
//	  gifts:      {url: "http://127.0.0.1:9001/gifts"}
//	  moderation: {url: "http://127.0.0.1:9001/moderation"}
//	  audit:      {url: "http://127.0.0.1:9001/events"}
//	routes:
//	  - commands: ["Live.CallbackBeforeSendGift"]
//	    upstream: gifts
//	    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
//	  - commands: ["Group.CallbackBeforeSendMsg", "C2C.CallbackBeforeSendMsg"]
//	    upstream: moderation
//	  - commands: ["Live.CallbackAfter*", "Mic.*"]
//	    upstream: audit
//	    async: true
//
// and send it a sample packet through the router:
//
//	callback-router send examples/callbacks/Live.CallbackBeforeSendGift.json
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"
)

// Server limits. Tencent waits 2 s for an answer, so nothing here needs long timeouts; the idle
// timeout is long because the router keeps connections alive between callbacks.
const (
	readHeaderTimeout = 2 * time.Second
	readTimeout       = 5 * time.Second
	writeTimeout      = 5 * time.Second
	idleTimeout       = 120 * time.Second
	maxHeaderBytes    = 64 << 10
	shutdownTimeout   = 5 * time.Second
)

// options are the example's settings, one flag each.
type options struct {
	listen     string
	startCoins int64    // balance of an account the first time it is seen
	block      []string // words masked with asterisks
	drop       []string // words that make a message vanish (ErrorCode 2)
}

func main() {
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(os.Args[1:], logger); err != nil && !errors.Is(err, flag.ErrHelp) {
		logger.Error("upstream stopped", "err", err)
		os.Exit(1)
	}
}

// run parses args, serves until SIGINT or SIGTERM, then lets in-flight requests finish.
func run(args []string, logger *slog.Logger) error {
	opts, err := parseFlags(args)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Addr:              opts.listen,
		Handler:           newHandler(opts, logger),
		ReadHeaderTimeout: readHeaderTimeout,
		ReadTimeout:       readTimeout,
		WriteTimeout:      writeTimeout,
		IdleTimeout:       idleTimeout,
		MaxHeaderBytes:    maxHeaderBytes,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	logger.Info("upstream listening", "addr", opts.listen, "start_coins", opts.startCoins,
		"block", opts.block, "drop", opts.drop)

	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	logger.Info("shutting down")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	return srv.Shutdown(shutdownCtx)
}

func parseFlags(args []string) (options, error) {
	fs := flag.NewFlagSet("upstream", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9001", "address to serve on")
	startCoins := fs.Int64("start-coins", 5000, "coin balance of an account the first time it sends a gift")
	block := fs.String("block", "badword,spam", "comma-separated words to mask with asterisks in messages")
	drop := fs.String("drop", "scam", "comma-separated words that make a message be dropped silently")
	if err := fs.Parse(args); err != nil {
		return options{}, err
	}
	if fs.NArg() > 0 {
		return options{}, fmt.Errorf("unexpected arguments: %q", fs.Args())
	}
	if *startCoins < 0 {
		return options{}, fmt.Errorf("-start-coins must not be negative, got %d", *startCoins)
	}
	return options{
		listen:     *listen,
		startCoins: *startCoins,
		block:      splitList(*block),
		drop:       splitList(*drop),
	}, nil
}

// newHandler routes the three example paths; other methods get 405 from the mux.
func newHandler(opts options, logger *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("POST /gifts", newGiftChecker(opts.startCoins, dedupWindow, logger.With("handler", "gifts")))
	mux.Handle("POST /moderation", newModerator(opts.block, opts.drop, logger.With("handler", "moderation")))
	mux.Handle("POST /events", newEventSink(logger.With("handler", "events")))
	return mux
}

// splitList splits a comma-separated flag value, dropping blanks.
func splitList(s string) []string {
	var out []string
	for _, part := range strings.Split(s, ",") {
		if part = strings.TrimSpace(part); part != "" {
			out = append(out, part)
		}
	}
	return out
}
