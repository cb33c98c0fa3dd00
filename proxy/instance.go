package proxy

import (
	"crypto/tls"
	"net/http"
	"net/url"
	"time"

	"github.com/sony/gobreaker/v2"
	"github.com/valyala/fasthttp"
)

// Connection tuning for upstream calls.
const (
	// maxIdleConnDuration closes keep-alive connections idle this long, shorter than the idle
	// timeouts of common servers (nginx 75 s, Go's often 60–120 s), so that the router rarely
	// picks a connection the upstream has just closed.
	maxIdleConnDuration = 10 * time.Second
	userAgent           = "callback-router"
)

// instance is one URL of an upstream: its own breaker and its own pool of fasthttp
// connections, whose deadlines are set on the connection rather than with a goroutine per
// call, so a hung upstream costs a parked connection and nothing more.
type instance struct {
	// name is the URL without userinfo, query or fragment, which may carry credentials: how
	// the instance is named in logs, metrics and errors. nameURL is the same as a URL.
	name    string
	nameURL *url.URL
	baseURI string   // what attempts are sent to: scheme://[userinfo@]host/path, no query
	own     ownQuery // the URL's own query, which the incoming one never overrides
	breaker *gobreaker.CircuitBreaker[*http.Response]
	client  *fasthttp.HostClient
	// state mirrors the breaker's state for pick and Available, which run on every call and
	// must not take the breaker's lock (see stateMirror).
	state stateMirror
}

func newInstance(upstream string, u *url.URL, s Spec) *instance {
	isTLS := u.Scheme == "https"
	addr := u.Host
	if u.Port() == "" {
		addr += map[bool]string{true: ":443", false: ":80"}[isTLS]
	}
	base := *u
	base.RawQuery, base.ForceQuery, base.Fragment, base.RawFragment = "", false, "", ""
	inst := &instance{
		nameURL: nameURL(u),
		baseURI: base.String(),
		own:     newOwnQuery(u.RawQuery),
		client: &fasthttp.HostClient{
			Addr:                addr,
			Name:                userAgent,
			IsTLS:               isTLS,
			TLSConfig:           &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12},
			MaxConns:            s.MaxConns,
			MaxIdleConnDuration: maxIdleConnDuration,
			MaxResponseBodySize: int(s.MaxResponseBytes),
			// Retries are go-retryablehttp's, as the route's policy says; never the client's.
			RetryIfErr: func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
		},
	}
	inst.name = inst.nameURL.String()
	inst.breaker = newBreaker(upstream, inst.name, s.Breaker, &inst.state, s.OnStateChange)
	return inst
}

// nameURL is u without userinfo, query or fragment: how an instance is named in logs,
// metrics and errors, since the rest may carry credentials.
func nameURL(u *url.URL) *url.URL { return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path} }
