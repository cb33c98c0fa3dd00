package admin

import "net/http"

// healthz answers 200 while the process can answer at all.
func (s *Server) healthz(w http.ResponseWriter, _ *http.Request) {
	writeText(w, http.StatusOK, "ok\n")
}

// readyz answers 200 once a route table is loaded and the callback listener is up, and 503
// before that and while shutting down, so a load balancer sends callbacks only where they
// will be answered.
func (s *Server) readyz(w http.ResponseWriter, _ *http.Request) {
	switch {
	case s.opts.Table == nil || s.opts.Table() == nil:
		writeText(w, http.StatusServiceUnavailable, "no route table loaded\n")
	case s.opts.Ready != nil && !s.opts.Ready():
		writeText(w, http.StatusServiceUnavailable, "callback listener not serving\n")
	default:
		writeText(w, http.StatusOK, "ready\n")
	}
}

func writeText(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}
