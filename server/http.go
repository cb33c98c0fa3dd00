package server

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/callback-router/callback-router/router"
)

// httpAdapter serves Handler over net/http: it reads the body within the limit and writes the
// Outbound. It is the seam between the connection layer and the callback logic.
type httpAdapter struct {
	h     *Handler
	table *atomic.Pointer[router.Table]
}

var _ http.Handler = (*httpAdapter)(nil)

func (a *httpAdapter) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in := Inbound{
		Received:     time.Now(),
		Method:       r.Method,
		Path:         r.URL.Path,
		RawQuery:     r.URL.RawQuery,
		RemoteIP:     remoteIP(r.RemoteAddr),
		ForwardedFor: r.Header.Get("X-Forwarded-For"),
	}
	if r.Method == http.MethodPost {
		body, tooLarge, err := readBody(r, a.table.Load().MaxBodyBytes)
		if err != nil {
			writeJSON(w, http.StatusBadRequest, reject(http.StatusBadRequest, "unreadable_body", "could not read the body: "+err.Error(), err).body(""))
			return
		}
		in.Body, in.BodyTooLarge = body, tooLarge
	}
	var out Outbound
	a.h.Handle(r.Context(), &in, &out)
	hdr := w.Header()
	hdr["X-Request-Id"] = []string{out.RequestID}
	if out.Fallback != "" {
		hdr["X-Callback-Fallback"] = []string{out.Fallback}
	}
	if out.Allow != "" {
		hdr["Allow"] = []string{out.Allow}
	}
	if out.Status >= 400 {
		// Whatever the client sent after a refused request is not worth reading.
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
