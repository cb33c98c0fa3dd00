package tencent

import (
	"bytes"
	"errors"
	"strings"
)

// ErrBodyNamesOtherApp is a body naming, at its top level, another app than the one the
// request names (the query's SdkAppid, a TRTC event's SdkAppId header).
var ErrBodyNamesOtherApp = errors.New("the body names another SdkAppid than the request")

// CheckBodyApp reports ErrBodyNamesOtherApp when the top level of body names SdkAppid, in
// any letter case or escaping a decoder would take for it, with a value other than
// sdkAppID (as a string, or as a number written with the same digits). Tencent never puts
// the app in a body, but handlers that merge the query and the body read one there, over
// the query's or beside it: with a token bound to its app, a callback signed as one app must
// not reach them as another's. The body is walked without allocating.
func CheckBodyApp(body []byte, sdkAppID string) error {
	w := bodyNames{app: sdkAppID}
	members(body, w.member)
	if w.otherApp {
		return ErrBodyNamesOtherApp
	}
	return nil
}

var appIDName = []byte("SdkAppid")

// isAppIDName reports whether a key as written is SdkAppid to a parser that undoes escapes
// and ignores case.
func isAppIDName(key []byte) bool {
	if bytes.IndexByte(key, '\\') < 0 {
		return bytes.EqualFold(key, appIDName)
	}
	return strings.EqualFold(unescapeKey(key), string(appIDName))
}
