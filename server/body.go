package server

import (
	"unicode/utf8"

	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/tencent"
)

// checkBody refuses a body no Tencent callback is: one that is not UTF-8 (JSON is, and
// Tencent's is) or nests deeper than server.max_json_depth. The router never parses a body
// beyond its CallbackCommand, but the upstream will, and a parser that recurses per level
// can be made to spend its stack on a megabyte of brackets; better refused here, once, with
// a clear 400.
func checkBody(t *router.Table, body []byte) *rejection {
	if !utf8.Valid(body) {
		return errNotUTF8
	}
	if tencent.DeeperThan(body, t.MaxJSONDepth) {
		return errTooDeep
	}
	return nil
}
