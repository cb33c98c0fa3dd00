package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/rs/zerolog"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/tracing"
)

// netHTTPEngine serves Handler over net/http: it reads the body within the limit and writes
// the Outbound. The request's context ends when the client hangs up, which the upstream call
// then sees.
type netHTTPEngine struct {
	srv     *http.Server
	h       *Handler
	maxBody int64
}

func newNetHTTPEngine(cfg config.Server, h *Handler, log zerolog.Logger) *netHTTPEngine {
	e := &netHTTPEngine{h: h, maxBody: cfg.MaxBodyBytes}
	e.srv = &http.Server{
		Handler:           e,
		ReadHeaderTimeout: cfg.ReadHeaderTimeout,
		ReadTimeout:       cfg.ReadTimeout,
		WriteTimeout:      cfg.WriteTimeout,
		IdleTimeout:       cfg.IdleTimeout,
		MaxHeaderBytes:    cfg.MaxHeaderBytes,
		ErrorLog:          newStdLogger(log.With().Str("component", "http").Logger()),
	}
	return e
}

// serve serves until the listener is closed (a drain closes it before shutting down).
func (e *netHTTPEngine) serve(ln net.Listener) error {
	if err := e.srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) && !errors.Is(err, net.ErrClosed) {
		return err
	}
	return nil
}

func (e *netHTTPEngine) shutdown(ctx context.Context) error { return e.srv.Shutdown(ctx) }

func (e *netHTTPEngine) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := Inbound{
		Received:     time.Now(),
		Method:       r.Method,
		Path:         r.URL.Path,
		RawQuery:     r.URL.RawQuery,
		RemoteIP:     remoteIP(r.RemoteAddr),
		ForwardedFor: strings.Join(r.Header.Values("X-Forwarded-For"), ", "), // every line, as forwardedForFast
		TRTCAppID:    r.Header.Get(headerSdkAppID),
		TRTCSign:     r.Header.Get(headerSign),
	}
	if e.h.tracer != nil {
		in.Trace = tracing.Incoming{TraceParent: r.Header.Get("traceparent"), TraceState: r.Header.Get("tracestate")}
	}
	if r.Method == http.MethodPost {
		body, tooLarge, err := readBody(r, e.maxBody)
		if err != nil {
			var out Outbound
			rej := errUnreadable
			if netErr := net.Error(nil); errors.As(err, &netErr) && netErr.Timeout() {
				rej = errSlowClient // a body slower than server.read_timeout, or shorter than its Content-Length
			}
			e.h.rejectUnread(&out, rej, in.RemoteIP, nameConnError(err))
			w.Header()["Connection"] = []string{"close"}
			writeJSON(w, out.Status, out.Body)
			return
		}

		in.Body, in.BodyTooLarge = body, tooLarge
	}
	var out Outbound
	e.h.Handle(r.Context(), &in, &out)
	// Tencent sends a Content-Length. A chunked request is a proxy that re-frames, or one
	// that also carried a Content-Length, which net/http drops without a word: a front
	// proxy that read that length would see the rest of the chunked body as another
	// client's request (smuggling). Close after answering, so nothing after it is read.
	out.Close = out.Close || len(r.TransferEncoding) > 0
	hdr := w.Header()
	hdr["X-Request-Id"] = []string{out.RequestID}
	if out.Fallback != "" {
		hdr["X-Callback-Fallback"] = []string{out.Fallback}
	}
	if out.Allow != "" {
		hdr["Allow"] = []string{out.Allow}
	}
	if out.Status >= 400 || out.Close {
		// Whatever the client sent after a refused request is not worth reading; a draining
		// router closes every connection after its answer.
		hdr["Connection"] = []string{"close"}
	}
	writeJSON(w, out.Status, out.Body)
}

func writeJSON(w http.ResponseWriter, status int, body []byte) {
	hdr := w.Header()
	hdr["Content-Type"] = []string{"application/json; charset=utf-8"}
	hdr["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	_, _ = w.Write(body) // a client that left gets nothing; the log line already says what it was owed
}

// readBody reads at most limit bytes. A declared length over the limit is refused without
// reading; a body that turns out longer than declared or than the limit is cut off there.
func readBody(r *http.Request, limit int64) (body []byte, tooLarge bool, err error) {
	if r.ContentLength > limit {
		return nil, true, nil
	}
	size := r.ContentLength
	if size < 0 {
		size = 512
	}
	buf := bytes.NewBuffer(make([]byte, 0, size+1))
	n, err := buf.ReadFrom(io.LimitReader(r.Body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if n > limit {
		return nil, true, nil
	}
	return buf.Bytes(), false, nil
}

func remoteIP(addr string) string {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	return host
}
