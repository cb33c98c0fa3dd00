// Package redact masks what must never reach a log line, a page or an error message: the
// userinfo, query values and fragment of a URL, and the Sign of Tencent's query. It works on
// text, not on parsed URLs, so that a URL too broken to parse — the one a config error is
// about — is masked all the same. Every place that echoes a URL or a stored query goes
// through it.
package redact
