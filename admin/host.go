package admin

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// requireKnownHost guards h when no admin token is set: a request for any path but openPaths
// must name, in its Host header, an IP address, localhost, or one of hosts (compared without
// the port, ignoring case and a trailing dot); any other gets 403.
//
// Without a token the listener trusts whoever can reach it, which on loopback means this
// machine. DNS rebinding breaks that: a page on attacker.example whose name then resolves to
// 127.0.0.1 makes the operator's browser send same-origin requests to the listener, reading
// /queue/list (stored queries and bodies) and posting /queue/drop. Those requests carry
// Host: attacker.example, which a name the operator chose never is. With a token this guard
// is not needed (the page cannot know the token) and requireToken stands alone.
func requireKnownHost(hosts []string, h http.Handler) http.Handler {
	known := map[string]bool{"localhost": true}
	for _, name := range hosts {
		known[normalHost(name)] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if openPaths[r.URL.Path] || hostAllowed(r.Host, known) {
			h.ServeHTTP(w, r)
			return
		}
		writeText(w, http.StatusForbidden, "this admin listener answers to IP addresses, localhost and the names in server.admin_hosts "+
			"(or set server.admin_token): the Host of this request is none of them\n")
	})
}

// hostAllowed reports whether a Host header names an IP address or a known name.
func hostAllowed(hostport string, known map[string]bool) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	if host == "" {
		return false
	}
	if _, err := netip.ParseAddr(host); err == nil {
		return true
	}
	return known[normalHost(host)]
}

func normalHost(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) }
