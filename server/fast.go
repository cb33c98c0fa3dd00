package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"time"

	"github.com/rs/zerolog"
	"github.com/valyala/fasthttp"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/tracing"
)

// fastEngine serves callbacks with fasthttp: pooled request contexts and buffers, no
// goroutine per request beyond the connection's, which roughly doubles the throughput of
// net/http on the same cores. It cannot tell that a client hung up mid-request; see
// config.Server.Engine.
type fastEngine struct {
	srv     *fasthttp.Server
	h       *Handler
	chunked chunkedHeads
}

func newFastEngine(cfg config.Server, h *Handler, log zerolog.Logger) *fastEngine {
	e := &fastEngine{h: h}
	e.srv = &fasthttp.Server{
		Handler:      e.handle,
		ErrorHandler: e.handleError,
		Name:         "callback-router",
		// The header read gets read_header_timeout; HeaderReceived extends it to
		// read_timeout for the body, as net/http's ReadHeaderTimeout and ReadTimeout do.
		ReadTimeout:        cfg.ReadHeaderTimeout,
		WriteTimeout:       cfg.WriteTimeout,
		IdleTimeout:        cfg.IdleTimeout,
		ReadBufferSize:     cfg.MaxHeaderBytes, // bounds the request line and headers
		MaxRequestBodySize: int(cfg.MaxBodyBytes),
		// A body is passed on as it came, whatever its Content-Type: a multipart form parsed
		// here would be handed back written anew from its parts.
		DisablePreParseMultipartForm: true,
		NoDefaultServerHeader:        true,
		NoDefaultContentType:         true,
		CloseOnShutdown:              true,
		// Give the read and write buffers back to their pools between requests, so an idle
		// keep-alive connection holds about 6 KiB rather than 9 and a callback waiting on a
		// hung upstream about 29 KiB rather than 37 (bench/, -scenarios 3); the
		// throughput at saturation did not change measurably.
		ReduceMemoryUsage: true,
		Logger:            fastLogger{log},
	}
	extra := max(cfg.ReadTimeout-cfg.ReadHeaderTimeout, 0)
	e.srv.HeaderReceived = func(h *fasthttp.RequestHeader) fasthttp.RequestConfig {
		e.chunked.remember(h)
		return fasthttp.RequestConfig{ReadTimeout: extra} // 0 keeps ReadTimeout
	}
	return e
}

func (e *fastEngine) serve(ln net.Listener) error { return e.srv.Serve(ln) }

func (e *fastEngine) shutdown(ctx context.Context) error { return e.srv.ShutdownWithContext(ctx) }

// inbound describes the request for the Handler; the body is left to the caller.
func inbound(ctx *fasthttp.RequestCtx, received time.Time) Inbound {
	var in Inbound
	readInbound(&in, ctx, received)
	return in
}

// readInbound fills in (no copy of an Inbound on the way: see exchange).
func readInbound(in *Inbound, ctx *fasthttp.RequestCtx, received time.Time) {
	in.Received = received
	in.Method = methodString(ctx)
	in.Path = string(ctx.Path())
	in.RawQuery = string(ctx.URI().QueryString())
	in.RemoteIP = remoteIP(ctx.RemoteAddr().String())
	in.ForwardedFor = forwardedForFast(&ctx.Request.Header)
	in.TRTCAppID = string(ctx.Request.Header.Peek(headerSdkAppID))
	in.TRTCSign = string(ctx.Request.Header.Peek(headerSign))
}

// forwardedForFast is every X-Forwarded-For line joined in order, as one list: a proxy may
// add its own line after one the client wrote, and the hop it appended is the one to trust.
func forwardedForFast(h *fasthttp.RequestHeader) string {
	lines := h.PeekAll("X-Forwarded-For")
	switch len(lines) {
	case 0:
		return ""
	case 1:
		return string(lines[0])
	}
	return string(bytes.Join(lines, []byte(", ")))
}

func (e *fastEngine) handle(ctx *fasthttp.RequestCtx) {
	x := exchanges.Get().(*exchange)
	defer x.release()
	in, out := &x.in, &x.out
	// fasthttp read the clock once the request was read whole: the callback's arrival.
	readInbound(in, ctx, ctx.Time())
	in.Body = ctx.PostBody() // valid until handle returns; whoever keeps it copies it
	if e.h.tracer != nil {
		h := &ctx.Request.Header
		in.Trace = tracing.Incoming{TraceParent: string(h.Peek("traceparent")), TraceState: string(h.Peek("tracestate"))}
	}
	e.h.Handle(context.Background(), in, out)
	// Tencent sends a Content-Length. A chunked request may also have carried one, which
	// fasthttp lets chunked override: a front proxy that read that length would see the
	// rest of the chunked body as another client's request (smuggling). Close after
	// answering, so nothing after this request is read as one.
	out.Close = out.Close || ctx.Request.Header.ContentLength() == -1
	e.write(ctx, out)
}

// handleError answers what fasthttp could not parse. A body over the limit still goes
// through the Handler, so the design's check order (405 before 413) and the log line hold.
func (e *fastEngine) handleError(ctx *fasthttp.RequestCtx, err error) {
	var out Outbound
	cause := nameConnError(err) // fasthttp's text quotes the request: its query, its Sign, its body
	head, chunked := e.chunked.take(&ctx.Request.Header)
	switch {
	case errors.Is(err, fasthttp.ErrBodyTooLarge) && ctx.Request.Header.ContentLength() > 0:
		in := inbound(ctx, time.Now()) // refused on its Content-Length: the headers are intact
		in.BodyTooLarge = true
		e.h.Handle(context.Background(), &in, &out)
	case errors.Is(err, fasthttp.ErrBodyTooLarge) && chunked:
		in := Inbound{Received: time.Now(), Method: head.method, Path: head.path, RawQuery: head.rawQuery,
			RemoteIP: remoteIP(ctx.RemoteAddr().String()), ForwardedFor: head.forwardedFor, BodyTooLarge: true}
		e.h.Handle(context.Background(), &in, &out)
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		e.h.rejectUnread(&out, errTooLarge, remoteIP(ctx.RemoteAddr().String()), cause)
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)):
		e.h.rejectUnread(&out, errHeaderTooLarge, remoteIP(ctx.RemoteAddr().String()), cause)
	default:
		var netErr net.Error
		if errors.As(err, &netErr) && netErr.Timeout() {
			e.h.rejectUnread(&out, errSlowClient, remoteIP(ctx.RemoteAddr().String()), cause)
		} else {
			e.h.rejectUnread(&out, errMalformed, remoteIP(ctx.RemoteAddr().String()), cause)
		}
	}
	e.write(ctx, &out)
	ctx.SetConnectionClose()
}

func (e *fastEngine) write(ctx *fasthttp.RequestCtx, out *Outbound) {
	ctx.SetStatusCode(out.Status)
	h := &ctx.Response.Header
	h.SetContentType("application/json; charset=utf-8")
	h.Set("X-Request-Id", out.RequestID)
	if out.Fallback != "" {
		h.Set("X-Callback-Fallback", out.Fallback)
	}
	if out.Allow != "" {
		h.Set("Allow", out.Allow)
	}
	if out.Status >= 400 || out.Close {
		ctx.SetConnectionClose() // whatever the client sends after a refused request is not worth reading
	}
	ctx.SetBody(out.Body)
}

// methodString returns the request method without allocating for the POST every callback uses.
func methodString(ctx *fasthttp.RequestCtx) string {
	if ctx.IsPost() {
		return http.MethodPost
	}
	return string(ctx.Method())
}

// fastLogger routes fasthttp's own messages into the structured log. Their arguments may
// quote a request ("error when serving connection …: <error quoting the request>"), so each
// is shown only as connLogArg allows.
type fastLogger struct{ l zerolog.Logger }

func (f fastLogger) Printf(format string, args ...any) {
	e := f.l.Warn()
	if e == nil {
		return
	}
	safe := make([]any, len(args))
	for i, a := range args {
		safe[i] = connLogArg(a)
	}
	e.Str("component", "fasthttp").Msgf(format, safe...)
}
