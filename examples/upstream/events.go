package main

import (
	"log/slog"
	"net/http"
)

// eventSink is an audit sink for notifications ("after" callbacks): it logs one line per event
// and answers allow. Tencent ignores the answer to a notification, so even a body it cannot
// read is acknowledged, only logged louder.
type eventSink struct {
	log *slog.Logger
}

var _ http.Handler = (*eventSink)(nil)

func newEventSink(logger *slog.Logger) *eventSink {
	return &eventSink{log: logger}
}

func (s *eventSink) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := readBody(w, r)
	attrs := []any{
		"command", commandOf(r, body),
		"request_id", r.Header.Get("X-Request-Id"),
		"attempt", r.Header.Get("X-Callback-Attempt"),
		"sdkappid", queryParam(r, "SdkAppid"),
		"bytes", len(body),
	}
	if err != nil {
		s.log.Warn("event body unreadable", append(attrs, "err", err)...)
	} else {
		s.log.Info("event", attrs...)
	}
	writeEnvelope(w, codeAllow, "")
}
