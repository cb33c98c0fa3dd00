package config

import (
	"errors"
	"fmt"
	"strings"
)

// A command pattern is one entry of routes[].commands: "*" matches every command, a pattern
// ending in "*" ("Live.CallbackAfter*") the commands that start with what precedes it, any
// other pattern the one command it names. Names match ignoring case: Tencent's spelling has
// varied. Validation, the route table and the queue command's -command filter all match
// through these functions (the table, which weighs many patterns per callback, through the
// parts of MatchCommand, with each pattern's prefix found once).

// MatchCommand reports whether a route pattern matches a command.
func MatchCommand(pattern, command string) bool {
	if prefix, ok := PatternPrefix(pattern); ok {
		return HasCommandPrefix(command, prefix)
	}
	return SameCommand(pattern, command)
}

// SameCommand reports whether a pattern naming one command names this one.
func SameCommand(pattern, command string) bool { return strings.EqualFold(pattern, command) }

// HasCommandPrefix reports whether a command starts with the PatternPrefix of a pattern
// ending in "*", which is when that pattern matches it.
func HasCommandPrefix(command, prefix string) bool {
	return len(command) >= len(prefix) && strings.EqualFold(command[:len(prefix)], prefix)
}

// PatternPrefix returns what a pattern ending in "*" requires a command to start with ("" for
// "*" itself); ok is false for a pattern naming one command.
func PatternPrefix(pattern string) (prefix string, ok bool) {
	return strings.CutSuffix(pattern, "*")
}

// PatternKey is the pattern as compared with others: two patterns with the same key match
// the same commands, so a config may list one of them once per scope.
func PatternKey(pattern string) string { return strings.ToLower(pattern) }

// checkPattern accepts an exact command, a prefix pattern ending in "*", or "*" alone.
func checkPattern(cmd string) error {
	switch {
	case cmd == "":
		return errors.New("empty command")
	case strings.ContainsAny(cmd, " \t\r\n?&="):
		return fmt.Errorf("%q contains a space or query character", cmd)
	case strings.Contains(strings.TrimSuffix(cmd, "*"), "*"):
		return fmt.Errorf("%q: \"*\" may only end a pattern (e.g. \"Live.CallbackAfter*\")", cmd)
	}
	return nil
}
