package tencent

import (
	"net/url"
	"strings"
)

// Query holds the parameters Tencent appends to the callback URL. Tencent's pages spell the
// names differently (SdkAppid, SdkAppId, sdkappid), so they are matched case-insensitively;
// values are kept as sent (after percent-decoding).
type Query struct {
	SdkAppID        string
	CallbackCommand string
	ClientIP        string
	OptPlatform     string
	Sign            string
	RequestTime     string
	// WebhookCommand is an alias of CallbackCommand some of Tencent's pages use; when the
	// query has no CallbackCommand, CallbackCommand holds it.
	WebhookCommand string
	// Conflict names a parameter the query carries more than once, under any spelling, with
	// different values; "" when there is none. An upstream that reads another occurrence
	// than the router did would act on a value the router never checked (an SdkAppid, a
	// command), so the router refuses such a query.
	Conflict string
}

// ParseQuery reads Tencent's parameters from a raw query string without building a map.
// Unknown parameters are ignored; WebhookCommand is accepted as an alias of CallbackCommand,
// which wins when both are present. A repeated parameter keeps its first value, as
// url.Values.Get does, and a later occurrence with another value sets Conflict: the upstream,
// which sees the same query, must not read a different SdkAppid than the one the router
// checked. Names are percent-decoded as url.ParseQuery decodes them, so "Sdk%41ppid" is
// SdkAppid here as it is there. A value that is not valid percent-encoding is kept raw rather
// than rejected: the checks that use it will then fail on their own terms.
func ParseQuery(raw string) Query {
	var q Query
	var seen [paramCount]bool // an empty first value is still the first, as for url.Values.Get
	for raw != "" {
		var pair string
		pair, raw, _ = strings.Cut(raw, "&")
		name, value, _ := strings.Cut(pair, "=")
		dst, i := q.field(unescape(name))
		if dst == nil {
			continue
		}
		switch v := unescape(value); {
		case !seen[i]:
			*dst, seen[i] = v, true
		case *dst != v && q.Conflict == "":
			q.Conflict = canonicalName(unescape(name))
		}
	}
	if q.CallbackCommand == "" {
		q.CallbackCommand = q.WebhookCommand
	}
	return q
}

// unescape percent-decodes a query value, skipping the work (and the allocation) for the
// common value that has nothing to decode.
func unescape(v string) string {
	if !escaped(v) {
		return v
	}
	if u, err := url.QueryUnescape(v); err == nil {
		return u
	}
	return v
}

// escaped reports whether v has a '%' or a '+' to decode: a loop over its bytes, which for
// the short names and values of a query costs a fraction of strings.ContainsAny.
func escaped(v string) bool {
	for i := 0; i < len(v); i++ {
		if c := v[i]; c == '%' || c == '+' {
			return true
		}
	}
	return false
}

// canonicalName spells a parameter name as Tencent's documentation does, for messages.
func canonicalName(name string) string {
	for _, c := range []string{"SdkAppid", "CallbackCommand", "WebhookCommand", "ClientIP", "OptPlatform", "Sign", "RequestTime"} {
		if strings.EqualFold(name, c) {
			return c
		}
	}
	return name
}

// paramCount is the number of parameters field knows.
const paramCount = 7

// field returns where the value of parameter name goes and the parameter's index, nil for
// a parameter the router does not read. Names are compared by length first: most
// parameters are ruled out without comparing a byte.
func (q *Query) field(name string) (*string, int) {
	eq := func(want string) bool { return len(name) == len(want) && strings.EqualFold(name, want) }
	switch {
	case eq("SdkAppid"):
		return &q.SdkAppID, 0
	case eq("CallbackCommand"):
		return &q.CallbackCommand, 1
	case eq("WebhookCommand"):
		return &q.WebhookCommand, 2
	case eq("ClientIP"):
		return &q.ClientIP, 3
	case eq("OptPlatform"):
		return &q.OptPlatform, 4
	case eq("Sign"):
		return &q.Sign, 5
	case eq("RequestTime"):
		return &q.RequestTime, 6
	}
	return nil, 0
}
