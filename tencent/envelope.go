package tencent

import (
	"bytes"
	"encoding/json"
	"math"
	"strconv"
	"unicode/utf8"

	"github.com/tidwall/gjson"
)

// AllowEnvelope is the answer that lets a before-callback through and acknowledges a
// notification.
var AllowEnvelope = []byte(`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`)

// DenyCodeDefault is the ErrorCode of a deny verdict when the operator names none: every
// before-callback treats 1 as "refuse".
const DenyCodeDefault = 1

// Envelope builds the answer envelope for an ErrorCode and ErrorInfo. Tencent's deny samples
// keep ActionStatus "OK"; the decision is the ErrorCode alone.
func Envelope(code int64, info string) []byte {
	b := make([]byte, 0, 64+len(info))
	b = append(b, `{"ActionStatus":"OK","ErrorCode":`...)
	b = strconv.AppendInt(b, code, 10)
	b = append(b, `,"ErrorInfo":`...)
	b = appendJSONString(b, info)
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. strconv.AppendQuote would write Go syntax, not
// JSON: its \x01 and \U0001xxxx escapes would make Tencent reject the whole envelope.
// encoding/json also turns invalid UTF-8 into U+FFFD; HTML is left unescaped because
// ErrorInfo may be shown to a sender as text. Envelopes are built once per config, so the
// cost does not matter.
func appendJSONString(b []byte, s string) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	return append(b, bytes.TrimSuffix(buf.Bytes(), []byte("\n"))...)
}

// IsEnvelope reports whether body is an answer Tencent accepts: a valid JSON object, UTF-8
// throughout, naming each top-level member once, with an integer ErrorCode in the signed
// 32-bit range at its top level. Anything else is a failed callback on Tencent's side, so the
// router treats it as an upstream failure rather than pass it on. Some of those a lenient
// parser would still read, each its own way: {"ErrorCode":0,"ErrorCode":1} is an allow to a
// parser keeping the first key and a deny to one keeping the last; invalid UTF-8 is replaced
// or refused; a code past 32 bits is cut or refused.
func IsEnvelope(body []byte) bool {
	if !isObject(body) || DeeperThan(body, MaxEnvelopeDepth) || !utf8.Valid(body) || !gjson.ValidBytes(body) {
		return false
	}
	// The text is valid JSON: one walk over its top-level members finds ErrorCode and any
	// name given twice.
	code := false
	repeated := repeatedMember(body, func(key, value []byte) {
		if isErrorCodeName(key) {
			code = isInt32(value)
		}
	})
	return code && !repeated
}

var errorCodeName = []byte("ErrorCode")

// isErrorCodeName reports whether a key as written is ErrorCode, escapes undone (exactly:
// a key in another case is a repeated name if ErrorCode is there too, and no ErrorCode if
// it is not).
func isErrorCodeName(key []byte) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return bytes.Equal(key, errorCodeName)
	}
	return unescapeKey(key) == string(errorCodeName)
}

// isInt32 reports whether a valid JSON value is an integer in the signed 32-bit range,
// written without a fraction or an exponent.
func isInt32(value []byte) bool {
	digits := value
	if len(digits) > 0 && digits[0] == '-' {
		digits = digits[1:]
	}
	if len(digits) == 0 || len(digits) > 10 {
		return false
	}
	var n int64
	for _, c := range digits {
		if c < '0' || c > '9' {
			return false
		}
		n = n*10 + int64(c-'0')
	}
	if len(digits) < len(value) {
		n = -n
	}
	return n >= math.MinInt32 && n <= math.MaxInt32
}

// CommandFromBody returns the CallbackCommand field of a callback body, or "" when the body
// has none. It does not validate the rest of the body: the router forwards it untouched.
func CommandFromBody(body []byte) string {
	if !isObject(body) {
		return ""
	}
	r := gjson.GetBytes(body, "CallbackCommand")
	if r.Type != gjson.String {
		return ""
	}
	return r.Str
}

func isObject(body []byte) bool {
	for _, c := range body {
		switch c {
		case ' ', '\t', '\r', '\n':
			continue
		case '{':
			return true
		default:
			return false
		}
	}
	return false
}
