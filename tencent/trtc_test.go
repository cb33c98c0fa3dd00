package tencent

import (
	"errors"
	"strings"
	"testing"
)

// trtcVectorBody is the body of Tencent's signature example (TRTC's "Verify Signature
// Example" page): tab-indented, as TRTC sends it. trtcVectorSign is its Sign under
// trtcVectorKey, computed outside Go (openssl dgst -sha256 -hmac KEY -binary | base64).
const (
	trtcVectorBody = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}"
	trtcVectorKey  = "Ab12Cd34Ef56"
	trtcVectorSign = "vL1pEK4pwrasaRnaUxcjToIbLfPabQdrW68AX3LSWeY="
)

func TestParseTRTCEvent(t *testing.T) {
	tests := []struct {
		name    string
		body    string
		want    string // the command, when err is nil
		wantErr error
	}{
		{name: "Tencent's tab-indented sample", body: trtcVectorBody, want: "TRTC.1.103"},
		{name: "compact media event", body: `{"EventGroupId":2,"EventType":201,"CallbackTs":1687770731999,"EventInfo":{"RoomId":"r1","UserId":"u"}}`, want: "TRTC.2.201"},
		{name: "recording event with a string room", body: `{"EventGroupId":3,"EventType":305,"EventInfo":{"RoomId":"635055","TaskId":"t","Payload":{"Status":0}}}`, want: "TRTC.3.305"},
		{name: "an event not in the catalogue", body: `{"EventType":901,"EventGroupId":9,"EventInfo":{}}`, want: "TRTC.9.901"},
		{name: "keys after a nested object naming them", body: `{"EventInfo":{"EventGroupId":7,"EventType":"x"},"EventGroupId":1,"EventType":104}`, want: "TRTC.1.104"},
		{name: "zero is a number", body: `{"EventGroupId":0,"EventType":0}`, want: "TRTC.0.0"},
		{name: "largest 32-bit values", body: `{"EventGroupId":4294967295,"EventType":4294967295}`, want: "TRTC.4294967295.4294967295"},
		{name: "leading white space", body: " \r\n\t{\"EventGroupId\":1,\"EventType\":101}", want: "TRTC.1.101"},

		{name: "a Live callback wrapping a recording event", body: `{"CallbackCommand":"Live.CallbackAfterCloudRecordingChanged","EventGroupId":3,"EventType":305}`, wantErr: ErrNotTRTC},
		{name: "a command after the event fields", body: `{"EventGroupId":3,"EventType":305,"callbackcommand":1}`, wantErr: ErrNotTRTC},
		{name: "WebhookCommand", body: `{"WebhookCommand":"x","EventGroupId":1,"EventType":103}`, wantErr: ErrNotTRTC},
		{name: "no EventType", body: `{"EventGroupId":1,"EventInfo":{"EventType":103}}`, wantErr: ErrNotTRTC},
		{name: "only nested", body: `{"EventInfo":{"EventGroupId":1,"EventType":103}}`, wantErr: ErrNotTRTC},
		{name: "string group", body: `{"EventGroupId":"1","EventType":103}`, wantErr: ErrNotTRTC},
		{name: "fraction", body: `{"EventGroupId":1.0,"EventType":103}`, wantErr: ErrNotTRTC},
		{name: "exponent", body: `{"EventGroupId":1,"EventType":1e2}`, wantErr: ErrNotTRTC},
		{name: "negative", body: `{"EventGroupId":-1,"EventType":103}`, wantErr: ErrNotTRTC},
		{name: "beyond 32 bits", body: `{"EventGroupId":4294967296,"EventType":103}`, wantErr: ErrNotTRTC},
		{name: "null", body: `{"EventGroupId":null,"EventType":103}`, wantErr: ErrNotTRTC},
		{name: "other letter case only", body: `{"eventgroupid":1,"EventType":103,"x":"\"EventGroupId\""}`, wantErr: ErrNotTRTC},
		{name: "not JSON", body: `{"EventGroupId":1,"EventType":103`, wantErr: ErrNotTRTC},
		{name: "trailing garbage", body: `{"EventGroupId":1,"EventType":103} x`, wantErr: ErrNotTRTC},
		{name: "an array", body: `[{"EventGroupId":1,"EventType":103}]`, wantErr: ErrNotTRTC},
		{name: "empty", body: ``, wantErr: ErrNotTRTC},
		{name: "a Chat callback", body: `{"CallbackCommand":"Group.CallbackAfterSendMsg","GroupId":"g"}`, wantErr: ErrNotTRTC},
		{name: "nesting deeper than an event does", body: `{"EventGroupId":1,"EventType":103,"EventInfo":` + strings.Repeat("[", 65) + strings.Repeat("]", 65) + `}`, wantErr: ErrNotTRTC},
		{name: "nesting as deep as allowed", body: `{"EventGroupId":1,"EventType":103,"EventInfo":` + strings.Repeat("[", 63) + strings.Repeat("]", 63) + `}`, want: "TRTC.1.103"},

		{name: "EventType twice", body: `{"EventGroupId":1,"EventType":103,"EventType":104}`, wantErr: ErrTRTCAmbiguous},
		{name: "EventGroupId twice, same value", body: `{"EventGroupId":1,"EventType":103,"EventGroupId":1}`, wantErr: ErrTRTCAmbiguous},
		{name: "EventType again in another letter case", body: `{"EventGroupId":1,"EventType":103,"eventType":104}`, wantErr: ErrTRTCAmbiguous},
		{name: "EventType again under an escaped name", body: `{"EventGroupId":1,"EventType":103,"Event\u0054ype":104}`, wantErr: ErrTRTCAmbiguous},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := ParseTRTCEvent([]byte(tt.body))
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Errorf("ParseTRTCEvent(%q) = %+v, %v; want error %v", tt.body, ev, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseTRTCEvent(%q) = %v, want %s", tt.body, err, tt.want)
			}
			if got := ev.Command(); got != tt.want {
				t.Errorf("Command() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestTRTCCommandNames(t *testing.T) {
	// A catalogued name comes from the catalogue; another is formatted the same way.
	for _, ev := range []TRTCEvent{{1, 103}, {3, 312}, {9, 901}, {0, 0}} {
		if got, want := ev.Command(), ev.format(); got != want {
			t.Errorf("Command() = %q, want %q", got, want)
		}
	}
	if _, ok := Lookup("TRTC.1.103"); !ok {
		t.Errorf("TRTC.1.103 is not in the catalogue")
	}
	if got := KindOf("TRTC.3.305"); got != Notification {
		t.Errorf("KindOf(TRTC.3.305) = %v, want Notification", got)
	}
	for name, want := range map[string]bool{"TRTC.1.103": true, "trtc.*": true, "TRTC.": true, "TRTC*": false, "*": false, "Live.CallbackAfterCreateRoom": false} {
		if got := IsTRTCCommand(name); got != want {
			t.Errorf("IsTRTCCommand(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestSignTRTCTestVector(t *testing.T) {
	if got, want := SignTRTC(trtcVectorKey, []byte(trtcVectorBody)), trtcVectorSign; got != want {
		t.Errorf("SignTRTC() = %s, want %s", got, want)
	}
}

func TestVerifyTRTCSign(t *testing.T) {
	body := []byte(trtcVectorBody)
	// The same digest with its last base64 character's unused bits set: base64 that a
	// lenient decoder accepts, refused so that a digest has one spelling.
	noncanonical := trtcVectorSign[:42] + "Z="
	tests := []struct {
		name string
		key  string
		body []byte
		sign string
		want error
	}{
		{name: "valid", key: trtcVectorKey, body: body, sign: trtcVectorSign},
		{name: "missing", key: trtcVectorKey, body: body, sign: "", want: ErrTRTCSignMissing},
		{name: "wrong key", key: "another", body: body, sign: trtcVectorSign, want: ErrSignMismatch},
		{name: "key in another letter case", key: strings.ToLower(trtcVectorKey), body: body, sign: trtcVectorSign, want: ErrSignMismatch},
		{name: "body re-encoded without tabs", key: trtcVectorKey, body: []byte(strings.NewReplacer("\t", "", "\n", "").Replace(trtcVectorBody)), sign: trtcVectorSign, want: ErrSignMismatch},
		{name: "body with a trailing newline", key: trtcVectorKey, body: append(append([]byte{}, body...), '\n'), sign: trtcVectorSign, want: ErrSignMismatch},
		{name: "hex instead of base64", key: trtcVectorKey, body: body, sign: strings.Repeat("ab", 32), want: ErrTRTCSignMalformed},
		{name: "unpadded", key: trtcVectorKey, body: body, sign: strings.TrimSuffix(trtcVectorSign, "="), want: ErrTRTCSignMalformed},
		{name: "URL alphabet", key: trtcVectorKey, body: body, sign: "-_" + trtcVectorSign[2:], want: ErrTRTCSignMalformed},
		{name: "a newline inside", key: trtcVectorKey, body: body, sign: trtcVectorSign[:20] + "\n" + trtcVectorSign[21:], want: ErrTRTCSignMalformed},
		{name: "non-canonical last character", key: trtcVectorKey, body: body, sign: noncanonical, want: ErrTRTCSignMalformed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := VerifyTRTCSign(tt.key, tt.body, tt.sign); !errors.Is(err, tt.want) {
				t.Errorf("VerifyTRTCSign() = %v, want %v", err, tt.want)
			}
		})
	}
}
