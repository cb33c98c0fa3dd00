package redact

import (
	"net/url"
	"regexp"
	"strings"
)

// Mask replaces what is hidden.
const Mask = "…"

// URL returns raw with its userinfo, every query value and its fragment replaced by Mask;
// the scheme, host, path and query names stay, so the message still says which URL it is.
// Everything between "://" and the last "@" before the query is taken for userinfo, even
// past a "/" a password may hold; raw need not parse. URL(URL(s)) == URL(s).
func URL(raw string) string {
	body, frag, hasFrag := strings.Cut(raw, "#")
	body, query, hasQuery := strings.Cut(body, "?")
	var b strings.Builder
	b.Grow(len(raw))
	scheme, rest, ok := strings.Cut(body, "://")
	if !ok {
		scheme, rest = "", body
	} else {
		b.WriteString(scheme)
		b.WriteString("://")
	}
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		b.WriteString(Mask)
		rest = rest[at:]
	}
	b.WriteString(rest)
	if hasQuery {
		b.WriteByte('?')
		b.WriteString(maskValues(query, "", true))
	}
	if hasFrag {
		b.WriteByte('#')
		if frag != "" {
			b.WriteString(Mask)
		}
	}
	return b.String()
}

// maskValues masks the value of each name=value pair of a query: every pair's when all is
// set, else only those named name as an upstream decodes it (percent-escapes resolved, ASCII
// case ignored as Tencent's parameter names are). Pairs without "=" are names and stay.
func maskValues(query, name string, all bool) string {
	var b strings.Builder
	b.Grow(len(query))
	for i, pair := range strings.Split(query, "&") {
		if i > 0 {
			b.WriteByte('&')
		}
		k, v, hasValue := strings.Cut(pair, "=")
		if !hasValue || v == "" || (!all && !strings.EqualFold(decodedName(k), name)) {
			b.WriteString(pair)
			continue
		}
		b.WriteString(k)
		b.WriteByte('=')
		b.WriteString(Mask)
	}
	return b.String()
}

func decodedName(k string) string {
	if strings.ContainsAny(k, "%+") {
		if dec, err := url.QueryUnescape(k); err == nil {
			return dec
		}
	}
	return k
}

// urlInText finds URLs in free text: a scheme, "://", and everything up to white space, a
// quote or a bracket that ends a URL in prose or in Go's %q.
var urlInText = regexp.MustCompile("[A-Za-z][A-Za-z0-9+.-]*://[^\\s\"'`<>]*")

// Text returns s with every URL in it masked as URL does: for error messages that may quote
// a URL somewhere (a decoder's, a library's).
func Text(s string) string {
	if !strings.Contains(s, "://") {
		return s
	}
	return urlInText.ReplaceAllStringFunc(s, URL)
}

// Sign returns Tencent's raw query with the value of Sign (any letter case) replaced by Mask:
// a Sign with its RequestTime is a valid signature for any body within the clock skew, so
// no listing shows it. The other parameters keep their bytes.
func Sign(rawQuery string) string {
	if !strings.Contains(strings.ToLower(rawQuery), "sign") && !strings.Contains(rawQuery, "%") {
		return rawQuery
	}
	return maskValues(rawQuery, "Sign", false)
}
