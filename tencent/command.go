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
	n := q.Names(body)
	return n.Command, n.CommandErr
}

// Names is what a callback names that the router checks, from its query and the top level
// of its body: the command (Query.Command) and whether the body names another app
// (CheckBodyApp).
type Names struct {
	Command    string
	CommandErr error
	// OtherApp is set when the body names another SdkAppid than the query.
	OtherApp bool
}

// Names reads the command and the app a callback names, walking the top level of its body
// once for both: Command's answer and CheckBodyApp's against the query's SdkAppid.
func (q *Query) Names(body []byte) Names {
	var w bodyNames
	w.app = q.SdkAppID
	members(body, w.member)
	n := Names{OtherApp: w.otherApp}
	n.Command, n.CommandErr = q.command(&w)
	return n
}

// command judges the commands the query and a walk of the body found.
func (q *Query) command(w *bodyNames) (string, error) {
	switch {
	case q.WebhookCommand != "" && q.WebhookCommand != q.CallbackCommand:
		return "", ErrWebhookCommandDiffers
	case w.differ, w.nonString && w.found:
		return "", ErrBodyCommandsDiffer
	case q.CallbackCommand != "" && (w.nonString || w.found && string(w.first) != q.CallbackCommand):
		return "", ErrQueryBodyDiffer
	case q.CallbackCommand != "":
		return q.CallbackCommand, nil
	case w.found:
		return string(w.first), nil
	}
	return "", nil
}

// bodyNames is one walk over the top-level members of a body, for the commands and the
// apps they name.
type bodyNames struct {
	app string // the SdkAppid the request names
	// first is the first command named as a string; found says there was one; nonString
	// that a command was named by a value other than a string; differ that two strings
	// differ.
	first                    []byte
	found, nonString, differ bool
	// otherApp: a member names another SdkAppid than app.
	otherApp bool
}

// member takes one member of the walk; it stops the walk once both answers are decided.
func (w *bodyNames) member(key, value []byte) bool {
	switch {
	case isCommandName(key):
		text, ok := stringValue(value)
		switch {
		case !ok:
			w.nonString = true
		case !w.found:
			w.first, w.found = text, true
		case !bytes.Equal(w.first, text):
			w.differ = true
		}
	case isAppIDName(key):
		if text, ok := stringValue(value); ok {
			w.otherApp = w.otherApp || string(text) != w.app
		} else {
			w.otherApp = w.otherApp || string(value) != w.app // a number, written with the same digits
		}
	}
	return !(w.differ && w.otherApp)
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
