package tencent

// MaxEnvelopeDepth bounds the nesting of an upstream's answer. Tencent's envelopes nest a
// few levels (MsgBody[].MsgContent); anything far deeper is not an answer Tencent accepts,
// and refusing it early keeps a recursive validator from walking a megabyte of brackets.
const MaxEnvelopeDepth = 64

// DeeperThan reports whether the arrays and objects of a JSON text nest more than max
// levels. It scans once, without recursion or allocation, skipping strings (whose brackets
// do not count); it does not validate the text.
func DeeperThan(body []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case (c == '}' || c == ']') && depth > 0:
			// Never below zero: closing brackets first ("]]]]") must not buy the openers
			// after them extra levels. Such a text is not JSON, but this bound must not
			// depend on the parser after it noticing.
			depth--
		}
	}
	return false
}
