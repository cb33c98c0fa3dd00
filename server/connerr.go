package server

import (
	"errors"
	"io"
	"net"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
)

// connError is an error of the connection layer named by its kind alone ("invalid header",
// "timeout"). The errors fasthttp and net/http return for a request they cannot read may
// quote it — the request line with its query and Sign, headers, the first bytes of the body
// — and a Sign is good for any body for a minute: so their text never reaches a log line,
// only the kind read from it.
type connError struct{ kind string }

func (e connError) Error() string { return e.kind }

// nameConnError replaces err by its kind.
func nameConnError(err error) error {
	if err == nil {
		return nil
	}
	return connError{connErrorKind(err)}
}

// connErrorKinds name the parse errors by the fixed words of their messages, first match
// wins. fasthttp makes most of them with fmt.Errorf, so there is no sentinel to test.
var connErrorKinds = []struct{ words, kind string }{
	{"invalid header key", "invalid header name"},
	{"invalid header value", "invalid header"},
	{"too many host headers", "invalid header"},
	{"mime header", "invalid header"},
	{"headers cannot start with space", "invalid header"},
	{"content-length", "invalid content-length"},
	{"transfer-encoding", "invalid transfer-encoding"},
	{"trailer", "invalid trailer"},
	{"chunk", "invalid chunked body"},
	{"request uri", "invalid request target"},
	{"requesturi", "invalid request target"},
	{"http request method", "invalid method"},
	{"http version", "unsupported HTTP version"},
	{"first line of request", "invalid request line"},
	{"whitespace in request line", "invalid request line"},
	{"cannot find trailing lf", "incomplete header"},
	{"tls:", "TLS handshake failed"},
}

// connErrorKind names what was wrong with a request, or with a connection, without quoting
// anything the client sent.
func connErrorKind(err error) string {
	var netErr net.Error
	switch {
	case errors.As(err, new(*fasthttp.ErrSmallBuffer)), errors.Is(err, fasthttp.ErrSmallReadBuffer):
		return "header block too large"
	case errors.Is(err, fasthttp.ErrBodyTooLarge):
		return "body too large"
	case errors.As(err, &netErr) && netErr.Timeout():
		return "timeout"
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return "connection closed mid-request"
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE):
		return "connection reset"
	case errors.Is(err, syscall.EMFILE), errors.Is(err, syscall.ENFILE):
		return "too many open files"
	case errors.Is(err, net.ErrClosed):
		return "connection closed"
	}
	// Only the words before the first quote are read: what follows quotes the request, and
	// a client could write "content-length" in its query to be misnamed.
	msg, _, _ := strings.Cut(strings.ToLower(err.Error()), `"`)
	for _, k := range connErrorKinds {
		if strings.Contains(msg, k.words) {
			return k.kind
		}
	}
	return "unreadable request"
}

// connLogArg is what fasthttp's own log messages may show of an argument: numbers,
// durations and addresses as they are, an error by its kind, anything else (a request's
// URI, a path) not at all.
func connLogArg(a any) any {
	switch v := a.(type) {
	case error:
		return connErrorKind(v)
	case net.Addr, int, int64, uint64, float64, time.Duration:
		return v
	}
	return "…"
}
