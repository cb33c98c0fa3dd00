package tencent

// MaxEnvelopeDepth bounds the nesting of an upstream's answer. Tencent's envelopes nest a
// few levels (MsgBody[].MsgContent); anything far deeper is not an answer Tencent accepts,
// and refusing it early keeps a recursive validator from walking a megabyte of brackets.
const MaxEnvelopeDepth = 64

// DeeperThan reports whether the arrays and objects of a JSON text nest more than max
// levels. It scans once, without recursion or allocation, skipping strings (whose brackets
// do not count) in a loop of their own, since most of a callback's bytes are in strings; it
// does not validate the text.
func DeeperThan(body []byte, max int) bool {
	depth := 0
	for i := 0; i < len(body); i++ {
		switch body[i] {
		case '"':
			i = skipString(body, i)
		case '{', '[':
			if depth++; depth > max {
				return true
			}
		case '}', ']':
			// Never below zero: closing brackets first ("]]]]") must not buy the openers
			// after them extra levels. Such a text is not JSON, but this bound must not
			// depend on the parser after it noticing.
			if depth > 0 {
				depth--
			}
		}
	}
	return false
}

// skipString returns the index of the quote closing the string that opens at b[i] (a
// backslash escapes the byte after it), len(b) when it does not close.
func skipString(b []byte, i int) int {
	for i++; i < len(b); i++ {
		switch b[i] {
		case '\\':
			i++
		case '"':
			return i
		}
	}
	return len(b)
}
