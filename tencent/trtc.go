package tencent

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// TRTC's event callbacks (room, media, cloud recording: TRTC's "Room & Media" and
// "Cloud Recording" callbacks) carry no CallbackCommand. Their body names the event with two
// numbers at its top level, EventGroupId and EventType, and the SdkAppId and Sign headers
// carry the app and the signature: Sign = base64(HMAC-SHA256(key, raw body)), with the key
// set in the TRTC console.

// TRTCCommandPrefix starts the name a TRTC event is routed by: TRTC.<EventGroupId>.<EventType>.
const TRTCCommandPrefix = "TRTC."

// TRTCAnswer is the answer TRTC recommends (it needs only HTTP 200 and ignores the body).
var TRTCAnswer = []byte(`{"code":0}`)

// TRTCEvent is what the router reads of a TRTC event callback: its group and type.
type TRTCEvent struct {
	Group uint32 // EventGroupId: 1 room, 2 media, 3 cloud recording, …
	Type  uint32 // EventType: 103 enter room, 201 start video, 301 recorder start, …
}

// Errors returned by ParseTRTCEvent.
var (
	// ErrNotTRTC is a body that is not a TRTC event: not a JSON object (or one nesting
	// deeper than MaxEnvelopeDepth), one with a CallbackCommand, or one without integer
	// EventGroupId and EventType at its top level.
	ErrNotTRTC = errors.New("not a TRTC event: no integer EventGroupId and EventType")
	// ErrTRTCAmbiguous is a body that names EventGroupId or EventType twice (in any letter
	// case, as decoders such as Go's match names): an upstream could read another event
	// than the one the router routed.
	ErrTRTCAmbiguous = errors.New("the body names EventGroupId or EventType more than once")
)

// ParseTRTCEvent recognises a TRTC event callback body. It reads the top level of the body
// once, without decoding the rest (EventInfo is passed on untouched), after a byte search
// that turns most other bodies away without parsing them.
func ParseTRTCEvent(body []byte) (TRTCEvent, error) {
	if !isObject(body) || !bytes.Contains(body, []byte(`"EventGroupId"`)) || !bytes.Contains(body, []byte(`"EventType"`)) {
		return TRTCEvent{}, ErrNotTRTC
	}
	// The depth bound comes first: gjson validates recursively, and a body of a megabyte of
	// brackets after the two names must cost a scan, not a deep stack. TRTC's nest 3 deep.
	if DeeperThan(body, MaxEnvelopeDepth) || !gjson.ValidBytes(body) {
		return TRTCEvent{}, ErrNotTRTC
	}
	var group, typ eventField
	command := false
	// gjson.Parse takes a string: the copy costs as much as the scan, and only bodies that
	// already look like TRTC events (and carried no command) get here.
	gjson.Parse(string(body)).ForEach(func(key, value gjson.Result) bool {
		switch {
		case strings.EqualFold(key.Str, "CallbackCommand"), strings.EqualFold(key.Str, "WebhookCommand"):
			command = true // a Chat or Live callback (one wraps a recording event), never TRTC's
			return false
		case strings.EqualFold(key.Str, "EventGroupId"):
			group.read(key.Raw == `"EventGroupId"`, value)
		case strings.EqualFold(key.Str, "EventType"):
			typ.read(key.Raw == `"EventType"`, value)
		}
		return true
	})
	switch {
	case command || !group.plain || !typ.plain:
		return TRTCEvent{}, ErrNotTRTC
	case group.seen > 1 || typ.seen > 1:
		return TRTCEvent{}, ErrTRTCAmbiguous
	case !group.ok || !typ.ok:
		return TRTCEvent{}, ErrNotTRTC
	}
	return TRTCEvent{Group: group.n, Type: typ.n}, nil
}

// eventField is what the top level says of EventGroupId or EventType: whether it is named
// as Tencent writes it (exact letter case, no escapes), how often it is named in any
// spelling a decoder would take for it (Go's matches names in any letter case), and the
// value of the last naming, ok when that is a JSON integer written plainly (no sign,
// fraction or exponent) that fits 32 bits.
type eventField struct {
	plain bool
	seen  int
	n     uint32
	ok    bool
}

func (f *eventField) read(plain bool, v gjson.Result) {
	f.seen++
	f.plain = f.plain || plain
	f.ok = false
	if v.Type != gjson.Number {
		return
	}
	u, err := strconv.ParseUint(v.Raw, 10, 32)
	if err != nil {
		return
	}
	f.n, f.ok = uint32(u), true
}

// Command returns the name the event is routed by, TRTC.<EventGroupId>.<EventType>; the
// names of documented events are built once.
func (e TRTCEvent) Command() string {
	if name, ok := trtcNames[e]; ok {
		return name
	}
	return e.format()
}

func (e TRTCEvent) format() string {
	b := make([]byte, 0, 24)
	b = append(b, TRTCCommandPrefix...)
	b = strconv.AppendUint(b, uint64(e.Group), 10)
	b = append(b, '.')
	b = strconv.AppendUint(b, uint64(e.Type), 10)
	return string(b)
}

// IsTRTCCommand reports whether a command or route pattern names TRTC events only: it starts
// with "TRTC." (in any letter case, as route patterns match).
func IsTRTCCommand(name string) bool {
	return len(name) >= len(TRTCCommandPrefix) && strings.EqualFold(name[:len(TRTCCommandPrefix)], TRTCCommandPrefix)
}

// trtcNames interns the names of the TRTC events in the catalogue.
var trtcNames = func() map[TRTCEvent]string {
	m := map[TRTCEvent]string{}
	for _, c := range Catalogue {
		rest, ok := strings.CutPrefix(c.Name, TRTCCommandPrefix)
		if !ok {
			continue
		}
		g, t, _ := strings.Cut(rest, ".")
		group, err1 := strconv.ParseUint(g, 10, 32)
		typ, err2 := strconv.ParseUint(t, 10, 32)
		if err1 != nil || err2 != nil {
			panic("tencent: malformed TRTC catalogue name " + c.Name)
		}
		m[TRTCEvent{Group: uint32(group), Type: uint32(typ)}] = c.Name
	}
	return m
}()

// Errors returned by VerifyTRTCSign. They say what was wrong without revealing the key.
var (
	ErrTRTCSignMissing   = errors.New("Sign header missing")
	ErrTRTCSignMalformed = errors.New("Sign is not the base64 of a SHA-256 HMAC")
)

// SignTRTC returns TRTC's signature of an event body: base64(HMAC-SHA256(key, body)), over
// the body exactly as sent.
func SignTRTC(key string, body []byte) string {
	return trtcEncoding.EncodeToString(trtcSum(key, body))
}

// trtcEncoding is standard padded base64, as Tencent's samples encode the Sign; strict, so
// that each digest has one spelling only.
var trtcEncoding = base64.StdEncoding.Strict()

// trtcSignLen is the length of a Sign: 44 characters.
var trtcSignLen = trtcEncoding.EncodedLen(sha256.Size)

func trtcSum(key string, body []byte) []byte {
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write(body)
	return mac.Sum(nil)
}

// VerifyTRTCSign checks sign against the HMAC of body with key. The digests are compared in
// constant time, so the time taken does not tell how much of a forged Sign was right.
func VerifyTRTCSign(key string, body []byte, sign string) error {
	if sign == "" {
		return ErrTRTCSignMissing
	}
	if len(sign) != trtcSignLen {
		return ErrTRTCSignMalformed
	}
	var given [sha256.Size + 1]byte // Decode may need room for a padding quantum
	if n, err := trtcEncoding.Decode(given[:], []byte(sign)); err != nil || n != sha256.Size {
		return ErrTRTCSignMalformed
	}
	if !hmac.Equal(trtcSum(key, body), given[:sha256.Size]) {
		return ErrSignMismatch
	}
	return nil
}
