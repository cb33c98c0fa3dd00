package tencent

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
)

// Errors returned by Query.Command: the request does not name one command. They say which
// names disagree, never the values.
var (
	ErrWebhookCommandDiffers = errors.New("WebhookCommand and CallbackCommand in the query differ")
	ErrBodyCommandsDiffer    = errors.New("the body names CallbackCommand more than once with different values")
	ErrQueryBodyDiffer       = errors.New("the query and the body name different commands")
)

// Command returns the command a callback names: its query's CallbackCommand (or
// WebhookCommand), else its body's. Tencent names the same command in both, once; a request
// that names several is refused, because the router would route by one while the upstream
// may act on another — common parsers keep the last of a repeated key, and Go's
// encoding/json also matches a key in any letter case. So in the body every top-level key
// that is CallbackCommand in any case, escapes undone, counts, and a value that is not a
// string disagrees with any other. It returns "" and no error when nothing names a command.
//
// The body is walked once without allocating; only a body command that is routed by (the
// query named none) or that is written with escapes costs an allocation.
func (q *Query) Command(body []byte) (string, error) {
	if q.WebhookCommand != "" && q.WebhookCommand != q.CallbackCommand {
		return "", ErrWebhookCommandDiffers
	}
	var first []byte
	found, nonString, differ := false, false, false
	members(body, func(key, value []byte) bool {
		if !isCommandName(key) {
			return true
		}
		text, ok := stringValue(value)
		switch {
		case !ok:
			nonString = true
		case !found:
			first, found = text, true
		case !bytes.Equal(first, text):
			differ = true
			return false
		}
		return true
	})
	switch {
	case differ, nonString && found:
		return "", ErrBodyCommandsDiffer
	case q.CallbackCommand != "" && (nonString || found && string(first) != q.CallbackCommand):
		return "", ErrQueryBodyDiffer
	case q.CallbackCommand != "":
		return q.CallbackCommand, nil
	case found:
		return string(first), nil
	}
	return "", nil
}

// isCommandName reports whether a key as written is CallbackCommand to a parser that undoes
// escapes and ignores case.
func isCommandName(key []byte) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return bytes.EqualFold(key, commandName) // Unicode folding: a Kelvin sign is a k, as to encoding/json
	}
	return strings.EqualFold(unescapeKey(key), string(commandName))
}

var commandName = []byte("CallbackCommand")

// stringValue returns the text of a JSON string value, false for any other value. A string
// without escapes is returned in place.
func stringValue(value []byte) ([]byte, bool) {
	if len(value) < 2 || value[0] != '"' || value[len(value)-1] != '"' {
		return nil, false
	}
	inner := value[1 : len(value)-1]
	if bytes.IndexByte(inner, '\\') < 0 {
		return inner, true
	}
	var s string
	if json.Unmarshal(value, &s) != nil {
		return nil, false
	}
	return []byte(s), true
}
