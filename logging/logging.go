// Package logging builds the process's zerolog logger (JSON for machines, console for people)
// and adapts it to the logger interfaces of the libraries the router uses. It decides nothing
// about what is logged: each package logs its own events through the logger it is given.
package logging

import (
	"fmt"
	"io"
	"net/url"
	"strings"
	"time"

	"github.com/rs/zerolog"
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

// Leveled adapts a zerolog logger to go-retryablehttp's LeveledLogger (proxy.Logger). A "url"
// or "request" value loses its query string on the way, and so does the URL an error quotes
// (net/http's `Post "<url>": …`): the request's URL carries Tencent's query, whose Sign must
// not be logged.
type Leveled struct{ L zerolog.Logger }

func (l Leveled) Error(msg string, kv ...any) { l.L.Error().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Info(msg string, kv ...any)  { l.L.Info().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Debug(msg string, kv ...any) { l.L.Debug().Fields(redactURLs(kv)).Msg(msg) }
func (l Leveled) Warn(msg string, kv ...any)  { l.L.Warn().Fields(redactURLs(kv)).Msg(msg) }

func redactURLs(kv []any) []any {
	for i := 0; i+1 < len(kv); i += 2 {
		if uerr, ok := kv[i+1].(*url.Error); ok {
			kv[i+1] = &url.Error{Op: uerr.Op, URL: redactQuery(uerr.URL), Err: uerr.Err}
			continue
		}
		if k, _ := kv[i].(string); k == "url" || k == "request" {
			if s, ok := kv[i+1].(string); ok {
				kv[i+1] = redactQuery(s)
			}
		}
	}
	return kv
}

func redactQuery(s string) string {
	if base, _, cut := strings.Cut(s, "?"); cut {
		return base + "?<redacted>"
	}
	return s
}
