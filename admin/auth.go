package admin

import (
	"crypto/sha256"
	"crypto/subtle"
	"net/http"
	"strings"
)

// openPaths answer without the admin token: health checks come from load balancers and
// orchestrators that carry no secret, and the status page itself is a static file with no
// data in it (it fetches /status.json, which needs the token, with the one in its #fragment).
var openPaths = map[string]bool{
	"/healthz": true, // liveness: says nothing but "the process answers"
	"/readyz":  true, // readiness: a load balancer's probe
	"/":        true, // the status page's static shell
}

// requireToken guards h with server.admin_token: unless token is empty, a request for any
// path but openPaths needs "Authorization: Bearer <token>", and gets 401 with
// WWW-Authenticate otherwise. The compare runs in constant time on digests of equal length,
// so neither the token's bytes nor its length leak through timing.
func requireToken(token string, h http.Handler) http.Handler {
	if token == "" {
		return h
	}
	want := sha256.Sum256([]byte(token))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] || bearerMatches(r.Header.Get("Authorization"), &want) {
			h.ServeHTTP(w, r)
			return
		}
		w.Header().Set("WWW-Authenticate", `Bearer realm="callback-router admin"`)
		writeText(w, http.StatusUnauthorized, "admin token required: Authorization: Bearer <server.admin_token>\n")
	})
}

func bearerMatches(header string, want *[sha256.Size]byte) bool {
	scheme, given, ok := strings.Cut(header, " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return false
	}
	got := sha256.Sum256([]byte(strings.TrimSpace(given)))
	return subtle.ConstantTimeCompare(got[:], want[:]) == 1
}
