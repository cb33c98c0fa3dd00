package server

import (
	"errors"
	"net/http"

	"github.com/callback-router/callback-router/router"
	"github.com/callback-router/callback-router/tencent"
)

// TRTC's event callbacks (room, media, cloud recording) carry no CallbackCommand: their body
// names the event (EventGroupId, EventType), the SdkAppId header names the app and the Sign
// header signs the body with the app's TRTC key. The router names them
// TRTC.<EventGroupId>.<EventType>, routes them through the same table, passes them on as
// received (body and headers) and answers TRTC itself with {"code":0}: TRTC needs HTTP 200
// and ignores the body, so a verdict means nothing to it.

// Headers of a TRTC event callback, passed on to the upstream as received.
const (
	headerSdkAppID = "SdkAppId"
	headerSign     = "Sign"
)

// maxTRTCAnswerBytes bounds an upstream's answer passed back to TRTC verbatim. TRTC takes an
// answer of at most 2000 bytes, headers included, and ignores its body; a longer body
// would turn a delivered event into a failed one (and a retry), so it is answered
// {"code":0} instead.
const maxTRTCAnswerBytes = 1024

var (
	errNotTRTC = reject(http.StatusBadRequest, "not_trtc_event",
		"server.trtc_path takes TRTC events only: a JSON object with integer EventGroupId and EventType and no CallbackCommand", nil)
	errTRTCQueryCommand = reject(http.StatusBadRequest, "ambiguous_command",
		"a TRTC event carries no CallbackCommand, but the query names one", nil)
	errTRTCAmbiguous = reject(http.StatusBadRequest, "ambiguous_command", tencent.ErrTRTCAmbiguous.Error(), nil)
	errTRTCName      = reject(http.StatusBadRequest, "trtc_command",
		"CallbackCommand names a TRTC event (TRTC.…): only TRTC's own event callbacks are routed by those names", nil)
	errTRTCAppConflict = reject(http.StatusBadRequest, "ambiguous_query",
		"the SdkAppId header and the query's SdkAppid name different apps", nil)
	errTRTCNoKey = reject(http.StatusUnauthorized, "bad_signature",
		"the app's callbacks are signed, but it has no TRTC key to verify its TRTC events", errors.New("the app has tokens but no trtc_key"))
)

// trtcCandidate says whether a request is served as a TRTC event: any request on
// server.trtc_path, and on server.path one without a CallbackCommand in the query whose body
// names a TRTC event (or names one ambiguously: it is then refused as such, not as a
// callback without a command). ev and parseErr are what the body says.
func trtcCandidate(t *router.Table, in *Inbound, q *tencent.Query) (ev tencent.TRTCEvent, parseErr error, ok bool) {
	onTRTCPath := t.TRTCPath != "" && in.Path == t.TRTCPath
	if !onTRTCPath && q.CallbackCommand != "" {
		return ev, nil, false // the query names a Chat or Live command: not TRTC's
	}
	ev, parseErr = tencent.ParseTRTCEvent(in.Body)
	return ev, parseErr, onTRTCPath || !errors.Is(parseErr, tencent.ErrNotTRTC)
}

// checkTRTC checks a TRTC event in the design's order: its app (the SdkAppId header) 403,
// its Sign 401, then its body 400. It sets the app and the command in o.
func (h *Handler) checkTRTC(t *router.Table, in *Inbound, q *tencent.Query, o *outcome, ev tencent.TRTCEvent, parseErr error) *rejection {
	o.trtc = true
	id := in.TRTCAppID
	switch {
	case id == "":
		id = q.SdkAppID // a TRTC console URL may carry the app in its query
	case q.SdkAppID != "" && q.SdkAppID != id:
		return errTRTCAppConflict
	}
	o.sdkAppID = id
	if o.app = t.App(id); o.app == nil {
		return reject(http.StatusForbidden, "app_not_served", "SdkAppId is not served here", nil)
	}
	switch {
	case o.app.TRTCKey != "":
		if err := tencent.VerifyTRTCSign(o.app.TRTCKey, in.Body, in.TRTCSign); err != nil {
			return reject(http.StatusUnauthorized, "bad_signature", err.Error(), err)
		}
	case len(o.app.Tokens) > 0:
		// An app whose callbacks must be signed does not take unsigned TRTC events: they
		// would be a way around its tokens.
		return errTRTCNoKey
	}
	if rej := checkBody(t, in.Body); rej != nil {
		return rej
	}
	switch {
	case q.CallbackCommand != "":
		return errTRTCQueryCommand
	case errors.Is(parseErr, tencent.ErrTRTCAmbiguous):
		return errTRTCAmbiguous
	case parseErr != nil:
		return errNotTRTC
	}
	o.command = ev.Command()
	if tencent.CheckBodyApp(in.Body, id) != nil {
		return errBodyApp
	}
	return nil
}

// eventQuery is the query a callback's event id is derived from: the query names a Chat
// callback's app, but a TRTC event's app is in its SdkAppId header, so the header joins
// it. Without it the same event body sent by two apps would be one event, and the second
// app's dropped as a duplicate of the first.
func eventQuery(in *Inbound, o *outcome) string {
	if !o.trtc || in.TRTCAppID == "" {
		return in.RawQuery
	}
	return in.RawQuery + "&SdkAppId=" + in.TRTCAppID
}

// trtcAnswer is what TRTC gets back from an upstream's 200: its body, verbatim, when it fits
// what TRTC accepts, else {"code":0}.
func trtcAnswer(body []byte) []byte {
	if len(body) > maxTRTCAnswerBytes {
		return tencent.TRTCAnswer
	}
	return body
}
