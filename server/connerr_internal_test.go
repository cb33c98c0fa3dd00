package server

import (
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"

	"github.com/valyala/fasthttp"
)

// TestConnErrorKind: the errors of the connection layer are named by kind, and nothing the
// client wrote survives, even words of a kind's own name placed in the request.
func TestConnErrorKind(t *testing.T) {
	const quoted = `"POST /?Sign=abc&x=content-length HTTP/1.1"`
	tests := []struct {
		err  error
		want string
	}{
		{fmt.Errorf("error when reading request headers: invalid header value %q: buffer size=9, contents: %s", "a\x00b", quoted), "invalid header"},
		{fmt.Errorf("error when reading request headers: %w: buffer size=4096, contents: %s", &fasthttp.ErrSmallBuffer{}, quoted), "header block too large"},
		{fmt.Errorf("error when reading request headers: %w (n=1)", fasthttp.ErrSmallReadBuffer), "header block too large"},
		{fmt.Errorf("error when reading request headers: %w: contents: %s", &net.OpError{Op: "read", Net: "tcp", Err: timeoutErr{}}, quoted), "timeout"},
		{fmt.Errorf("error when reading request headers: cannot parse content-length: %w: contents: %s", fasthttp.ErrNonNumericChars, quoted), "invalid content-length"},
		{fmt.Errorf("unsupported http version %q in %s", "HTTP/7", quoted), "unsupported HTTP version"},
		{fmt.Errorf("cannot find whitespace in the first line of request %s", quoted), "invalid request line"},
		{fmt.Errorf("malformed mime header line: %q", "Bad\x01Name: v"), "invalid header"},
		{fmt.Errorf("weird failure %s", quoted), "unreadable request"},
		{fasthttp.ErrBodyTooLarge, "body too large"},
		{errors.New("invalid byte in chunk length"), "invalid chunked body"},
	}
	for _, tt := range tests {
		got := nameConnError(tt.err).Error()
		if got != tt.want {
			t.Errorf("kind of %q = %q, want %q", tt.err, got, tt.want)
		}
		if strings.Contains(got, "Sign") {
			t.Errorf("kind of %q quotes the request: %q", tt.err, got)
		}
	}
}

// TestConnLogArg: fasthttp's messages keep addresses and counts, lose strings and
// error texts (the request logger passes the request's URI as a string).
func TestConnLogArg(t *testing.T) {
	addr := &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}
	format := "%q<->%d: %v - %s"
	got := fmt.Sprintf(format, connLogArg(addr), connLogArg(3), connLogArg(fmt.Errorf("invalid header value %q", "Sign=abc")), connLogArg("POST /?Sign=abc"))
	if want := `"127.0.0.1:8080"<->3: invalid header - …`; got != want {
		t.Errorf("got %s, want %s", got, want)
	}
}

type timeoutErr struct{}

func (timeoutErr) Error() string   { return "i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }
