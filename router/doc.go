// Package router compiles a validated config into an immutable Table: the apps served, each
// with its secrets and the matcher of the routes admitting it, the routes with their resolved
// policies and fallback envelopes, the upstreams they call, and the ingress settings the
// request path checks (paths, clock skew, JSON depth, the source policy). The request path
// does one atomic load of the current Table and reads only what was compiled into it, never
// the config or viper; a reload builds a new Table and swaps it in whole.
package router
