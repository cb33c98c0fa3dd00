package proxy

import (
	"net/url"
	"strings"
)

// QueryDropFunc is told of each parameter of Tencent's query that was not sent because the
// instance URL sets it itself. param is the instance URL's own spelling of the name (config
// text, never the incoming one) and no value is passed: the incoming value is an attacker's
// to choose and the instance's may be a credential.
type QueryDropFunc func(upstream, param, requestID string)

// ownQuery is an instance URL's own query and the names it sets, computed once per instance
// so that the hot path only scans the incoming query when there is something to protect.
//
// A parameter the instance URL sets (…/moderation?api_key=S) is the operator's: an incoming
// parameter of the same name would reach the upstream as a second value (api_key=S&…&
// api_key=ATTACKER) that many frameworks read instead of the first. Such incoming parameters
// are dropped. Names are compared as an upstream's parser reads them: percent-decoded ("+"
// as a space), split on ";" as well as "&" (some parsers still do), and without regard to
// ASCII case, because some frameworks (ASP.NET's query collections, for one) read names
// case-insensitively, and as PHP and Rack read them (see readAs). Dropping a parameter that
// differs from the upstream's own only in case or spelling costs at most a Tencent parameter
// the operator chose to shadow (no Tencent parameter name has a dot, a space, a bracket or a
// NUL); keeping it could let a caller override a credential.
type ownQuery struct {
	raw   string      // the instance URL's query, "" when none
	names []string    // the names it sets, decoded, each once
	read  []readNames // readAs of each name, for the names an incoming pair is read as
}

func newOwnQuery(raw string) ownQuery {
	q := ownQuery{raw: raw}
	for pair := range strings.SplitSeq(raw, "&") {
		for part := range strings.SplitSeq(pair, ";") {
			if name := paramName(part); name != "" && q.match(name) == "" {
				q.names = append(q.names, name)
				q.read = append(q.read, readAs(name))
			}
		}
	}
	return q
}

// phpSpelling is how PHP rewrites a parameter name into a variable name: a dot, a space or an
// opening bracket left unclosed becomes an underscore.
var phpSpelling = strings.NewReplacer(".", "_", " ", "_", "[", "_")

// readNames are the names a parser may read a parameter name as; "" where none.
type readNames [3]string

// readAs returns the names a parser may read a decoded parameter name as. PHP, the most
// rewriting of them, reads a name as a C string (up to its first NUL), trims leading spaces,
// reads ".", " " and an unclosed "[" as "_", and "a[…]" as the array a: "api.key",
// "api key", " api_key", "api[key", "api_key%00x" and "api_key[]" all set $_GET['api_key'].
// Rack 2 (Rails) skips brackets before a name and after it: "[api_key]" and "api_key]" set
// params["api_key"], and qs (Express) reads "[api_key]" so too. The names are: the name so
// rewritten by PHP; the name before a "[", rewritten the same way (the array it sets; ""
// when there is no "["); the name Rack reads (the array it sets, when more follows).
// Slices and a rewrite only where PHP changes a byte: a plain name costs no allocation.
func readAs(name string) readNames {
	var r readNames
	php, _, _ := strings.Cut(name, "\x00")
	php = strings.TrimLeft(php, " ")
	if i := strings.IndexByte(php, '['); i >= 0 {
		r[1] = phpSpelling.Replace(php[:i])
	}
	r[0] = phpSpelling.Replace(php)
	rack := strings.TrimLeft(name, "[]")
	if i := strings.IndexAny(rack, "[]"); i >= 0 {
		rack = rack[:i]
	}
	r[2] = rack
	return r
}

// overlaps reports whether r and o share a name, ignoring ASCII case.
func (r *readNames) overlaps(o *readNames) bool {
	for _, a := range r {
		for _, b := range o {
			if a != "" && strings.EqualFold(a, b) {
				return true
			}
		}
	}
	return false
}

// paramName is the decoded name of one key=value part. In a name with a bad escape the
// others are still decoded and the bad one kept as written, as a lenient parser (PHP's)
// does: api_key%00%ZZ is api_key to PHP, and must not pass as written.
func paramName(part string) string {
	name, _, _ := strings.Cut(part, "=")
	if strings.ContainsAny(name, "%+") {
		if dec, err := url.QueryUnescape(name); err == nil {
			return dec
		}
		return unescapeLeniently(name)
	}
	return name
}

// unescapeLeniently decodes "+" as a space and each valid %XX, keeping any other "%".
func unescapeLeniently(s string) string {
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '+':
			b = append(b, ' ')
		case s[i] == '%' && i+2 < len(s) && isHex(s[i+1]) && isHex(s[i+2]):
			b = append(b, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 2
		default:
			b = append(b, s[i])
		}
	}
	return string(b)
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}

func unhex(c byte) byte {
	switch {
	case c <= '9':
		return c - '0'
	case c <= 'F':
		return c - 'A' + 10
	}
	return c - 'a' + 10
}

// match returns the instance's own spelling of name, "" when it does not set it under any
// name a parser may read name as.
func (q *ownQuery) match(name string) string {
	for _, own := range q.names {
		if strings.EqualFold(own, name) {
			return own
		}
	}
	read := readAs(name)
	for i := range q.read {
		if read.overlaps(&q.read[i]) {
			return q.names[i]
		}
	}
	return ""
}

// shadowed returns the instance's name that an incoming pair would set, "" when none.
func (q *ownQuery) shadowed(pair string) string {
	for part := range strings.SplitSeq(pair, ";") {
		if own := q.match(paramName(part)); own != "" {
			return own
		}
	}
	return ""
}

// merge returns the query an attempt sends: the instance's own parameters, then the incoming
// ones it does not set, in their order and bytes. onDrop, if set, is told the instance's name
// for each incoming pair left out.
func (q *ownQuery) merge(incoming, requestID string, onDrop func(param, requestID string)) string {
	switch {
	case q.raw == "":
		return incoming
	case incoming == "":
		return q.raw
	}
	var b strings.Builder
	kept := 0
	for pair := range strings.SplitSeq(incoming, "&") {
		if own := q.shadowed(pair); own != "" {
			if onDrop != nil {
				onDrop(own, requestID)
			}
			continue
		}
		if kept == 0 {
			b.Grow(len(q.raw) + 1 + len(incoming))
			b.WriteString(q.raw)
		}
		b.WriteByte('&')
		b.WriteString(pair)
		kept++
	}
	if kept == 0 {
		return q.raw
	}
	return b.String()
}

func containsQuery(qs []ownQuery, raw string) bool {
	for _, q := range qs {
		if q.raw == raw {
			return true
		}
	}
	return false
}

func containsFold(names []string, name string) bool {
	for _, n := range names {
		if strings.EqualFold(n, name) {
			return true
		}
	}
	return false
}
