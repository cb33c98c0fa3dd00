package tencent

import (
	"bytes"
	"encoding/json"
	"strings"
	"unicode"
)

// members walks the members of the JSON object at the top of body, calling fn with each
// key as written (without its quotes, escapes kept) and the raw text of its value, until fn
// returns false. It does not validate what it skips and never allocates; it returns false
// at the first byte that cannot continue an object, true when the walk ended normally (the
// object closed, or fn stopped it).
func members(body []byte, fn func(key, value []byte) bool) bool {
	i := skipSpace(body, 0)
	if i >= len(body) || body[i] != '{' {
		return false
	}
	i = skipSpace(body, i+1)
	if i < len(body) && body[i] == '}' {
		return true
	}
	for {
		if i >= len(body) || body[i] != '"' {
			return false
		}
		keyEnd := stringEnd(body, i)
		if keyEnd < 0 {
			return false
		}
		key := body[i+1 : keyEnd-1]
		i = skipSpace(body, keyEnd)
		if i >= len(body) || body[i] != ':' {
			return false
		}
		i = skipSpace(body, i+1)
		valueEnd := valueEnd(body, i)
		if valueEnd < 0 {
			return false
		}
		if !fn(key, body[i:valueEnd]) {
			return true
		}
		i = skipSpace(body, valueEnd)
		switch {
		case i < len(body) && body[i] == ',':
			i = skipSpace(body, i+1)
		case i < len(body) && body[i] == '}':
			return true
		default:
			return false
		}
	}
}

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n') {
		i++
	}
	return i
}

// stringEnd returns the index after the closing quote of the string opening at b[i], -1
// when it does not close.
func stringEnd(b []byte, i int) int {
	for j := i + 1; j < len(b); j++ {
		switch b[j] {
		case '\\':
			j++
		case '"':
			return j + 1
		}
	}
	return -1
}

// valueEnd returns the index after the value starting at b[i], -1 when it does not end.
func valueEnd(b []byte, i int) int {
	if i >= len(b) {
		return -1
	}
	switch b[i] {
	case '"':
		return stringEnd(b, i)
	case '{', '[':
		depth := 0
		for j := i; j < len(b); j++ {
			switch b[j] {
			case '"':
				if j = stringEnd(b, j); j < 0 {
					return -1
				}
				j-- // the loop's j++ lands after the string
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return j + 1
				}
			}
		}
		return -1
	}
	j := i
scalar:
	for ; j < len(b); j++ {
		switch b[j] {
		case ',', '}', ']', ' ', '\t', '\r', '\n':
			break scalar
		}
	}
	if j == i {
		return -1
	}
	return j
}

// sameName reports whether two keys as written name the same member for a parser that
// undoes escapes and, like Go's encoding/json, ignores case. Keys without escapes, as nearly
// every key is, are compared in place.
func sameName(a, b []byte) bool {
	if bytes.IndexByte(a, '\\') < 0 && bytes.IndexByte(b, '\\') < 0 {
		return bytes.EqualFold(a, b)
	}
	return strings.EqualFold(unescapeKey(a), unescapeKey(b))
}

// unescapeKey undoes the escapes of a key as written; one that does not decode is kept.
func unescapeKey(key []byte) string {
	var s string
	if json.Unmarshal(append(append([]byte{'"'}, key...), '"'), &s) != nil {
		return string(key)
	}
	return s
}

// foldedName spells a key as written so that two keys have one spelling exactly when
// sameName holds: escapes undone, each rune the smallest of the runes its case folds with
// (as encoding/json folds names; strings.ToLower would keep ſ apart from s, and K from K).
func foldedName(key []byte) string {
	return strings.Map(func(r rune) rune {
		for {
			next := unicode.SimpleFold(r)
			if next <= r {
				return next
			}
			r = next
		}
	}, unescapeKey(key))
}

// repeatedMember reports whether the object at the top of body names a member twice (see
// sameName). Parsers disagree on which occurrence counts — the first, the last, an error —
// so the router and an upstream, or an upstream and Tencent, could read different values.
// visit, when not nil, is shown each member on the way, until the first repeated one.
func repeatedMember(body []byte, visit func(key, value []byte)) bool {
	var small [16][]byte
	keys := small[:0]
	var seen map[string]bool // past len(small) keys: no quadratic compare on a huge object
	repeated := false
	members(body, func(key, value []byte) bool {
		if visit != nil {
			visit(key, value)
		}
		if seen != nil {
			name := foldedName(key)
			repeated = seen[name]
			seen[name] = true
			return !repeated
		}
		for _, k := range keys {
			if sameName(k, key) {
				repeated = true
				return false
			}
		}
		if len(keys) < cap(keys) {
			keys = append(keys, key)
			return true
		}
		seen = make(map[string]bool, 2*len(keys))
		for _, k := range append(keys, key) {
			seen[foldedName(k)] = true
		}
		return true
	})
	return repeated
}
