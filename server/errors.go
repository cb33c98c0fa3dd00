package server

import (
	"encoding/json"
	"net/http"

	"github.com/callback-router/callback-router/tencent"
)

// rejection is a request refused before routing. Code and Msg are what the client sees;
// Err is only logged (it may say more than a client should learn).
type rejection struct {
	Status int
	Code   string // stable, snake_case, for logs and clients
	Msg    string
	Err    error
}

func reject(status int, code, msg string, err error) *rejection {
	return &rejection{Status: status, Code: code, Msg: msg, Err: err}
}

// body renders the JSON error. These are not Tencent envelopes: a refused request is not an
// answer to a callback, and its status is never 200.
func (r *rejection) body(requestID string) []byte {
	b, _ := json.Marshal(struct {
		Error     string `json:"error"`
		Message   string `json:"message"`
		RequestID string `json:"request_id"`
	}{r.Code, r.Msg, requestID}) // strings always marshal
	return b
}

var (
	errNotFound  = reject(http.StatusNotFound, "not_found", "callbacks are posted to the configured server.path", nil)
	errMethod    = reject(http.StatusMethodNotAllowed, "method_not_allowed", "callbacks are POSTed", nil)
	errTooLarge  = reject(http.StatusRequestEntityTooLarge, "body_too_large", "body exceeds server.max_body_bytes", nil)
	errNoCommand = reject(http.StatusBadRequest, "no_command", "no CallbackCommand in the query or the body", nil)
	errSource    = reject(http.StatusForbidden, "source_not_allowed", "the source address is not in tencent.allowed_cidrs", nil)
	errNotUTF8   = reject(http.StatusBadRequest, "body_not_utf8", "the body is not UTF-8", nil)
	errTooDeep   = reject(http.StatusBadRequest, "body_too_deep", "the body nests deeper than server.max_json_depth", nil)
	// errBodyApp: an upstream merging the query and the body would take the callback for
	// another app's than the one whose secret verified it.
	errBodyApp = reject(http.StatusBadRequest, "ambiguous_query", tencent.ErrBodyNamesOtherApp.Error(), nil)

	// Refusals of the connection layer, before a request could be read whole.
	errHeaderTooLarge = reject(http.StatusRequestHeaderFieldsTooLarge, "header_too_large", "request line and headers exceed server.max_header_bytes", nil)
	errSlowClient     = reject(http.StatusRequestTimeout, "read_timeout", "request not received within server.read_timeout", nil)
	errMalformed      = reject(http.StatusBadRequest, "malformed_request", "not a valid HTTP/1.1 request", nil)
	errUnreadable     = reject(http.StatusBadRequest, "unreadable_body", "could not read the body", nil)
)
