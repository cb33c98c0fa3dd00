package tencent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzParseQuery checks that the router never reads a Tencent parameter differently from an
// upstream that parses the same query with net/url: unless ParseQuery reports a Conflict,
// every occurrence of SdkAppid (any spelling) that url.ParseQuery decodes carries the value
// the router checked. The corpus is in testdata/fuzz/FuzzParseQuery.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android&Sign=abc&RequestTime=1669872112",
		"SdkAppid=1&sdkappid=2", "Sdk%41ppid=2&SdkAppid=1", "SdkAppid=%zz&SdkAppid=1", "SdkAppid=1;x=2",
		"SdkAppid=1+&SdkAppid=1%20", "sdk+appid=1", "SdkAppid", "&&&=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := ParseQuery(raw)
		if q.Conflict != "" {
			return // refused with 400: nobody acts on it
		}
		vals, _ := url.ParseQuery(raw) // keeps the pairs that parse, as an upstream would
		for name, vs := range vals {
			if !strings.EqualFold(name, "SdkAppid") {
				continue
			}
			for _, v := range vs {
				if v != q.SdkAppID {
					t.Fatalf("ParseQuery(%q).SdkAppID = %q, but net/url reads %s=%q", raw, q.SdkAppID, name, v)
				}
			}
		}
	})
}

// FuzzVerifySign checks that VerifySign accepts exactly the signatures of a configured token
// within the skew: whatever it accepts is that token's digest of that RequestTime (in some
// letter case) and the time is inside the window, and a genuine signature in the window is
// never refused. The corpus is in testdata/fuzz/FuzzVerifySign.
func FuzzVerifySign(f *testing.F) {
	f.Add("xxxxyyyy", "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", "1669872112", int64(1669872112))
	f.Add("xxxxyyyy", "17773BC39A671D7B9AA835458704D2A6DB81360A5940292B587D6D760D484061", "1669872112", int64(1669872200))
	f.Add("t", "", "1", int64(1))
	f.Add("t", "zz", "+1", int64(0))
	f.Add("", strings.Repeat("0", 64), "-9223372036854775808", int64(9223372036))
	const skew = 60 * time.Second
	f.Fuzz(func(t *testing.T, token, sign, requestTime string, now int64) {
		at := time.Unix(now%(1<<40), 0)
		_, err := VerifySign([]string{token}, sign, requestTime, at, skew)
		if err == nil {
			if !strings.EqualFold(sign, Sign(token, requestTime)) {
				t.Fatalf("accepted Sign %q for token %q and RequestTime %q; the digest is %q", sign, token, requestTime, Sign(token, requestTime))
			}
			sec, perr := strconv.ParseInt(requestTime, 10, 64)
			if d := at.Sub(time.Unix(sec, 0)); perr != nil || d > skew || d < -skew {
				t.Fatalf("accepted RequestTime %q at %v, outside the %s skew", requestTime, at, skew)
			}
		}
		genuine := Sign(token, requestTime)
		if _, err := VerifySign([]string{token}, genuine, requestTime, at, skew); err != nil && errors.Is(err, ErrSignMismatch) {
			t.Fatalf("refused the genuine Sign of token %q, RequestTime %q: %v", token, requestTime, err)
		}
	})
}

// FuzzIngressBody runs what the router reads of a body — the command, the nesting bound and
// the envelope check of an answer — on arbitrary bytes: none may panic, an accepted envelope
// is valid JSON, and on valid JSON DeeperThan agrees with a decoder's count of nesting and
// repeatedMember with a decoder's list of top-level keys. The corpus is in
// testdata/fuzz/FuzzIngressBody.
func FuzzIngressBody(f *testing.F) {
	for _, s := range []string{
		`{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"To_Account":["to1"]}}`,
		`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`, `{"ErrorCode":1e3}`, `{"a":"[[[\"]]"}`,
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`, "{\"CallbackCommand\":\"\xff\"}", `{"ErrorCode":0,"ErrorCode":"x"}`,
		`{"a":{"b":"}"},"A":[1,"]"]}`, `{"Error\u0043ode":0}`, `{ "ErrorCode" : -1 , "x" : true }`,
		`{"CallbackCommand":"a","callbackcommand":"b"}`, "{\"Callbac\u212aCommand\":\"a\"}", `{"CallbackCommand":"a","CallbackCommand":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = CommandFromBody(body)
		command, err := new(Query).Command(body)
		var decoded struct{ CallbackCommand any } // matched ignoring case, the last one kept
		// The router refuses a body that is not UTF-8 before it reads the command.
		if err == nil && utf8.Valid(body) && json.Valid(body) && json.Unmarshal(body, &decoded) == nil {
			if s, ok := decoded.CallbackCommand.(string); ok && s != command || !ok && command != "" {
				t.Fatalf("Command(%q) = %q, but encoding/json reads %#v", body, command, decoded.CallbackCommand)
			}
		}
		if IsEnvelope(body) && !json.Valid(body) {
			t.Fatalf("IsEnvelope accepted invalid JSON %q", body)
		}
		if !json.Valid(body) {
			return
		}
		if keys, ok := topKeys(body); ok {
			// Every pair compared as encoding/json matches names: equal under Unicode case
			// folding (strings.ToLower would keep ſ and s apart).
			repeated := false
			for i := range keys {
				for _, k := range keys[:i] {
					repeated = repeated || strings.EqualFold(k, keys[i])
				}
			}
			if got := repeatedMember(body, nil); got != repeated {
				t.Fatalf("repeatedMember(%q) = %v, but the decoder reads keys %q", body, got, keys)
			}
		}
		depth := jsonDepth(t, body)
		for _, max := range []int{1, 2, 5, 64} {
			if got, want := DeeperThan(body, max), depth > max; got != want {
				t.Fatalf("DeeperThan(%q, %d) = %v, but the decoder counts depth %d", body, max, got, depth)
			}
		}
	})
}

// topKeys lists the keys of a valid JSON object's top level with encoding/json's tokenizer;
// false when body is not an object.
func topKeys(body []byte) ([]string, bool) {
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return nil, false
	}
	var keys []string
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, false
		}
		keys = append(keys, tok.(string))
		var skip json.RawMessage
		if err := dec.Decode(&skip); err != nil {
			return nil, false
		}
	}
	return keys, true
}

// jsonDepth counts the deepest nesting of valid JSON with encoding/json's tokenizer.
func jsonDepth(t *testing.T, body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}

// FuzzTRTCEvent checks ParseTRTCEvent against a reference built on encoding/json, which is
// how a Go upstream reads the same body: both agree on whether a body is a TRTC event, is
// ambiguous, and which event it is. The reference walks the top-level names with their raw
// spelling: EventGroupId and EventType must each be written plainly once, and any name an
// upstream would take for one of them (another letter case, escapes) counts as naming it
// again. It
// also checks that a Sign made with a key verifies, and not for another body. The corpus is
// in testdata/fuzz/FuzzTRTCEvent.
func FuzzTRTCEvent(f *testing.F) {
	for _, s := range []string{
		trtcVectorBody,
		`{"EventGroupId":3,"EventType":305,"CallbackTs":1752580150082,"EventInfo":{"RoomId":"635055","Payload":{"Status":0}}}`,
		`{"CallbackCommand":"Live.CallbackAfterCloudRecordingChanged","EventGroupId":3,"EventType":305}`,
		`{"EventGroupId":1,"EventType":103,"eventtype":104}`, `{"EventGroupId":1,"Event\u0054ype":103}`,
		`{"EventGroupId":1.5,"EventType":-1}`, `{"EventGroupId":4294967296,"EventType":1}`,
		"{\"EventGroupId\":1,\"EventType\":103,\"Callbac\u212aCommand\":1}", `{"EventGroupId":1,"EventType":103}]`,
	} {
		f.Add([]byte(s), trtcVectorKey)
	}
	f.Fuzz(func(t *testing.T, body []byte, key string) {
		got, err := ParseTRTCEvent(body)
		want, wantErr := referenceTRTCEvent(body)
		if !errors.Is(err, wantErr) || got != want {
			t.Fatalf("ParseTRTCEvent(%q) = %+v, %v; encoding/json reads %+v, %v", body, got, err, want, wantErr)
		}
		sign := SignTRTC(key, body)
		if err := VerifyTRTCSign(key, body, sign); err != nil {
			t.Fatalf("VerifyTRTCSign refused its own Sign %q of %q: %v", sign, body, err)
		}
		if err := VerifyTRTCSign(key, append(body[:len(body):len(body)], ' '), sign); !errors.Is(err, ErrSignMismatch) {
			t.Fatalf("VerifyTRTCSign accepted the Sign of %q for the body with a space added: %v", body, err)
		}
	})
}

// referenceTRTCEvent is ParseTRTCEvent's rule written with encoding/json's tokenizer.
func referenceTRTCEvent(body []byte) (TRTCEvent, error) {
	if !json.Valid(body) || jsonDepth(nil, body) > MaxEnvelopeDepth {
		return TRTCEvent{}, ErrNotTRTC
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return TRTCEvent{}, ErrNotTRTC
	}
	var ev TRTCEvent
	var groups, types int
	groupPlain, typePlain, groupOK, typeOK := false, false, false, false
	for dec.More() {
		before := dec.InputOffset()
		tok, err := dec.Token()
		if err != nil {
			return TRTCEvent{}, ErrNotTRTC
		}
		name := tok.(string)
		raw := string(bytes.TrimLeft(body[before:dec.InputOffset()], " \t\r\n,"))
		var value json.RawMessage
		if err := dec.Decode(&value); err != nil {
			return TRTCEvent{}, ErrNotTRTC
		}
		n, numErr := strconv.ParseUint(string(value), 10, 32)
		switch {
		case strings.EqualFold(name, "CallbackCommand"), strings.EqualFold(name, "WebhookCommand"):
			return TRTCEvent{}, ErrNotTRTC
		case strings.EqualFold(name, "EventGroupId"):
			groups++
			groupPlain = groupPlain || raw == `"EventGroupId"`
			ev.Group, groupOK = uint32(n), numErr == nil
		case strings.EqualFold(name, "EventType"):
			types++
			typePlain = typePlain || raw == `"EventType"`
			ev.Type, typeOK = uint32(n), numErr == nil
		}
	}
	switch {
	case !groupPlain || !typePlain:
		return TRTCEvent{}, ErrNotTRTC
	case groups > 1 || types > 1:
		return TRTCEvent{}, ErrTRTCAmbiguous
	case !groupOK || !typeOK:
		return TRTCEvent{}, ErrNotTRTC
	}
	return ev, nil
}
