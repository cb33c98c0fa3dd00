package proxy

import (
	"crypto/tls"
	"net"
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
// call, so a hung upstream costs a parked connection and nothing more. With pipelining on,
// fasthttp's PipelineClient sends the attempts over a few connections, each with a writer
// and a reader goroutine.
type instance struct {
	// name is the URL without userinfo, query or fragment, which may carry credentials: how
	// the instance is named in logs, metrics and errors. nameURL is the same as a URL.
	name    string
	nameURL *url.URL
	baseURI string        // what attempts are sent to: scheme://[userinfo@]host/path, no query
	uri     *fasthttp.URI // baseURI parsed once; each attempt copies it
	own     ownQuery      // the URL's own query, which the incoming one never overrides
	breaker *gobreaker.CircuitBreaker[*http.Response]
	client  fastClient
	// closeIdle closes the idle connections (HostClient); nil for a PipelineClient, whose
	// connections close themselves after maxIdleConnDuration.
	closeIdle func()
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
	tlsConfig := &tls.Config{ServerName: u.Hostname(), MinVersion: tls.VersionTLS12}
	inst := &instance{
		nameURL: nameURL(u),
		baseURI: base.String(),
		uri:     &fasthttp.URI{},
		own:     newOwnQuery(u.RawQuery),
	}
	// config.Validate has checked the URL; a parse error here would surface on every attempt.
	_ = inst.uri.Parse(nil, []byte(inst.baseURI))
	if s.Pipeline > 0 {
		inst.client = &fasthttp.PipelineClient{
			Addr:                addr,
			Name:                userAgent,
			IsTLS:               isTLS,
			TLSConfig:           tlsConfig,
			MaxConns:            s.Pipeline,
			MaxPendingRequests:  s.MaxConns,
			MaxIdleConnDuration: maxIdleConnDuration,
			MaxResponseBodySize: int(s.MaxResponseBytes),
			Logger:              connLog(s.ConnLog),
		}
	} else {
		hc := &fasthttp.HostClient{
			Addr:                addr,
			Name:                userAgent,
			IsTLS:               isTLS,
			TLSConfig:           tlsConfig,
			MaxConns:            s.MaxConns,
			MaxIdleConnDuration: maxIdleConnDuration,
			MaxResponseBodySize: int(s.MaxResponseBytes),
			// Retries are go-retryablehttp's, as the route's policy says; never the client's.
			RetryIfErr:  func(*fasthttp.Request, int, error) (bool, bool) { return false, false },
			DialTimeout: dialAside,
		}
		inst.client, inst.closeIdle = hc, hc.CloseIdleConnections
	}
	inst.name = inst.nameURL.String()
	inst.breaker = newBreaker(upstream, inst.name, s.Breaker, &inst.state, s.OnStateChange)
	return inst
}

// connLog adapts f to fasthttp's Logger; without one, fasthttp would print to stderr.
type connLog func(format string, args ...any)

func (f connLog) Printf(format string, args ...any) {
	if f != nil {
		f(format, args...)
	}
}

// fastClient sends one request with fasthttp: a HostClient, or a PipelineClient.
type fastClient interface {
	DoDeadline(req *fasthttp.Request, resp *fasthttp.Response, deadline time.Time) error
}

// nameURL is u without userinfo, query or fragment: how an instance is named in logs,
// metrics and errors, since the rest may carry credentials.
func nameURL(u *url.URL) *url.URL { return &url.URL{Scheme: u.Scheme, Host: u.Host, Path: u.Path} }

// dialAside dials as fasthttp would, on a goroutine of its own. A callback's goroutine
// reaches the dial under the whole call chain (server, go-retryablehttp, net/http, the
// transport, fasthttp's client), and the dial's own chain (resolver, socket, connect) would
// take its stack past 8 KiB; the runtime would then double it to 16 KiB and keep it for as
// long as the callback waits, which is what a burst of callbacks to a hung upstream, each on
// a new connection, is made of. The dial's goroutine lives only as long as the dial.
func dialAside(addr string, timeout time.Duration) (net.Conn, error) {
	type dialed struct {
		conn net.Conn
		err  error
	}
	done := make(chan dialed, 1)
	go func() {
		var d dialed
		if timeout > 0 {
			d.conn, d.err = fasthttp.DialTimeout(addr, timeout)
		} else {
			d.conn, d.err = fasthttp.Dial(addr)
		}
		done <- d
	}()
	d := <-done
	return d.conn, d.err
}
