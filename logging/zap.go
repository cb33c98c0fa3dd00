package logging

import (
	"github.com/rs/zerolog"
	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/callback-router/callback-router/redact"
)

// Zap adapts a zerolog logger to a *zap.Logger, for certmagic (the ACME client), which logs
// through zap: its entries become the router's JSON lines at the same level, their fields
// flattened beside the message, string values masked by redact.Text like every other
// library's. Levels below the logger's own are dropped before any field is encoded.
func Zap(l zerolog.Logger) *zap.Logger {
	return zap.New(&zapCore{log: l})
}

// zapCore is a zapcore.Core writing to zerolog.
type zapCore struct {
	log    zerolog.Logger
	fields []zapcore.Field // from With, encoded on each entry
}

var _ zapcore.Core = (*zapCore)(nil)

func zerologLevel(l zapcore.Level) zerolog.Level {
	switch {
	case l <= zapcore.DebugLevel:
		return zerolog.DebugLevel
	case l == zapcore.InfoLevel:
		return zerolog.InfoLevel
	case l == zapcore.WarnLevel:
		return zerolog.WarnLevel
	default: // error, and the panic and fatal levels, which the adapter does not act on
		return zerolog.ErrorLevel
	}
}

func (c *zapCore) Enabled(l zapcore.Level) bool {
	return zerologLevel(l) >= c.log.GetLevel()
}

func (c *zapCore) With(fields []zapcore.Field) zapcore.Core {
	return &zapCore{log: c.log, fields: append(append([]zapcore.Field{}, c.fields...), fields...)}
}

func (c *zapCore) Check(e zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Enabled(e.Level) {
		return ce.AddCore(e, c)
	}
	return ce
}

func (c *zapCore) Write(e zapcore.Entry, fields []zapcore.Field) error {
	enc := zapcore.NewMapObjectEncoder()
	for _, f := range c.fields {
		f.AddTo(enc)
	}
	for _, f := range fields {
		f.AddTo(enc)
	}
	for k, v := range enc.Fields {
		if s, ok := v.(string); ok {
			enc.Fields[k] = redact.Text(s)
		}
	}
	ev := c.log.WithLevel(zerologLevel(e.Level))
	if e.LoggerName != "" {
		ev = ev.Str("logger", e.LoggerName)
	}
	ev.Fields(enc.Fields).Msg(e.Message)
	return nil
}

func (c *zapCore) Sync() error { return nil }
