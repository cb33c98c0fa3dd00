// Package logging builds the process's zerolog logger (JSON for machines, console for people)
// and adapts it to the logger interfaces of the libraries the router uses. It decides nothing
// about what is logged: each package logs its own events through the logger it is given.
package logging

import (
	"fmt"
	"io"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/redact"
)

// New returns the root logger writing to w in format ("json" or "console") at level.
func New(w io.Writer, format, level string) (zerolog.Logger, error) {
	lvl, err := zerolog.ParseLevel(level)
	if err != nil || lvl == zerolog.NoLevel {
		return zerolog.Nop(), fmt.Errorf("log level %q: use debug, info, warn or error", level)
	}
	switch format {
	case "json":
	case "console":
		w = zerolog.ConsoleWriter{Out: w, TimeFormat: time.TimeOnly}
	default:
		return zerolog.Nop(), fmt.Errorf("log format %q: use json or console", format)
	}
	zerolog.TimeFieldFormat = time.RFC3339Nano
	return zerolog.New(w).Level(lvl).With().Timestamp().Logger(), nil
}

// Leveled adapts a zerolog logger to go-retryablehttp's LeveledLogger (proxy.Logger). A "url" or "request"
// value is masked by redact.URL on the way (upstream URLs carry Tencent's query, whose Sign
// must not be logged, and may carry credentials of their own), and so is any URL quoted in
// an "error".
type Leveled struct{ L zerolog.Logger }

func (l Leveled) Error(msg string, kv ...any) { l.L.Error().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Info(msg string, kv ...any)  { l.L.Info().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Debug(msg string, kv ...any) { l.L.Debug().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Warn(msg string, kv ...any)  { l.L.Warn().Fields(redactURLs(kv)).Msg(msg) }

func redactURLs(kv []any) []any {
	for i := 0; i+1 < len(kv); i += 2 {
		switch k, _ := kv[i].(string); k {
		case "url", "request":
			if s, ok := kv[i+1].(string); ok {
				kv[i+1] = redact.URL(s)
			}
		case "error":
			if err, ok := kv[i+1].(error); ok {
				kv[i+1] = redact.Text(err.Error())
			}
		}
	}
	return kv
}
