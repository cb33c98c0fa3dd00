package tencent

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestIsEnvelope(t *testing.T) {
	tests := []struct {
		name string
		body string
		want bool
	}{
		// PROTOCOL.md §7 answers.
		{name: "allow sample", body: `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0}`, want: true},
		{name: "deny sample", body: `{"ActionStatus":"OK","ErrorInfo":"insufficient balance","ErrorCode":102101}`, want: true},
		{name: "MsgBody rewrite answer", body: `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"CustomElement.MemberLevel","Data":"LV1"}}],"CloudCustomData":"your cloud custom data"}`, want: true},
		{name: "ErrorCode only", body: `{"ErrorCode":1}`, want: true},
		{name: "ErrorCode written with an escape", body: `{"Error\u0043ode":0}`, want: true},
		{name: "ErrorCode minus zero, spaced", body: `{"ErrorCode" : -0 , "x":1}`, want: true},
		{name: "ErrorCode with a leading zero", body: `{"ErrorCode":00}`, want: false},
		{name: "negative ErrorCode", body: `{"ErrorCode":-1}`, want: true},
		{name: "leading and trailing whitespace", body: " \r\n\t{\"ErrorCode\":0}\n", want: true},
		{name: "ErrorCode as float 0.5", body: `{"ErrorCode":0.5}`, want: false},
		{name: "ErrorCode as 1e3", body: `{"ErrorCode":1e3}`, want: false},
		{name: "ErrorCode as 0.0", body: `{"ErrorCode":0.0}`, want: false},
		{name: "ErrorCode as string", body: `{"ErrorCode":"0"}`, want: false},
		{name: "ErrorCode missing", body: `{"ActionStatus":"OK","ErrorInfo":""}`, want: false},
		{name: "ErrorCode null", body: `{"ErrorCode":null}`, want: false},
		{name: "ErrorCode boolean", body: `{"ErrorCode":false}`, want: false},
		{name: "ErrorCode nested only", body: `{"Result":{"ErrorCode":0}}`, want: false},
		{name: "ErrorCode in lower case", body: `{"errorcode":0}`, want: false},
		{name: "huge integer beyond int64", body: `{"ErrorCode":9223372036854775808}`, want: false},
		{name: "largest int64", body: `{"ErrorCode":9223372036854775807}`, want: false},
		{name: "largest int32", body: `{"ErrorCode":2147483647}`, want: true},
		{name: "smallest int32", body: `{"ErrorCode":-2147483648}`, want: true},
		{name: "one past int32", body: `{"ErrorCode":2147483648}`, want: false},
		{name: "one below int32", body: `{"ErrorCode":-2147483649}`, want: false},
		{name: "ErrorCode twice, allow then deny", body: `{"ErrorCode":0,"ErrorCode":1}`, want: false},
		{name: "ErrorCode twice, the same value", body: `{"ErrorCode":0,"ErrorCode":0}`, want: false},
		{name: "ErrorCode twice, then a string", body: `{"ErrorCode":0,"ErrorCode":"x"}`, want: false},
		{name: "ErrorCode again in other case", body: `{"ErrorCode":0,"errorcode":1}`, want: false},
		{name: "ErrorCode again escaped", body: `{"ErrorCode":0,"Error\u0043ode":1}`, want: false},
		{name: "another key twice", body: `{"ErrorCode":0,"ErrorInfo":"","ErrorInfo":"x"}`, want: false},
		{name: "a key twice after many", body: `{"ErrorCode":0,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1,"A":2}`, want: false},
		{name: "a key twice in Unicode case, among few", body: `{"ErrorCode":0,"state":1,"\u017ftate":2}`, want: false},
		{name: "a key twice in Unicode case, after many", body: `{"ErrorCode":0,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1,"state":1,"\u017ftate":2}`, want: false},
		{name: "the Kelvin sign after many", body: `{"ErrorCode":0,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1,"\u212a":3}`, want: false},
		{name: "many keys, none twice", body: `{"ErrorCode":0,"a":1,"b":1,"c":1,"d":1,"e":1,"f":1,"g":1,"h":1,"i":1,"j":1,"k":1,"l":1,"m":1,"n":1,"o":1,"p":1,"q":1,"r":1}`, want: true},
		{name: "nested keys may repeat", body: `{"ErrorCode":0,"MsgBody":[{"MsgType":"a"},{"MsgType":"b"}],"X":{"ErrorCode":1}}`, want: true},
		{name: "invalid UTF-8 in a string", body: "{\"ErrorCode\":0,\"ErrorInfo\":\"a\xffb\"}", want: false},
		{name: "invalid UTF-8 in a nested string", body: "{\"ErrorCode\":0,\"MsgBody\":[{\"Text\":\"\xc3\"}]}", want: false},
		{name: "non-ASCII UTF-8", body: `{"ErrorCode":0,"ErrorInfo":"礼物 🎁"}`, want: true},
		{name: "top-level array", body: `[{"ErrorCode":0}]`, want: false},
		{name: "HTML page", body: "<html><body><h1>502 Bad Gateway</h1></body></html>", want: false},
		{name: "truncated JSON", body: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"`, want: false},
		{name: "trailing garbage", body: `{"ErrorCode":0}}`, want: false},
		{name: "empty", body: "", want: false},
		{name: "whitespace only", body: " \n ", want: false},
		{name: "JSON string", body: `"ok"`, want: false},
		{name: "JSON null", body: `null`, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := IsEnvelope([]byte(tt.body)), tt.want; got != want {
				t.Errorf("IsEnvelope(%q) = %v, want %v", tt.body, got, want)
			}
		})
	}
}

func TestCommandFromBody(t *testing.T) {
	tests := []struct {
		name string
		body string
		want string
	}{
		{name: "gift sample", body: `{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id"}`, want: "Live.CallbackBeforeSendGift"},
		{name: "command after other fields", body: `{"RoomId":"r","EventTime":1703589922780,"CallbackCommand":"Live.CallbackAfterMemberStateChanged"}`, want: "Live.CallbackAfterMemberStateChanged"},
		{name: "leading whitespace", body: "\n  {\"CallbackCommand\":\"State.StateChange\"}", want: "State.StateChange"},
		{name: "escaped characters", body: `{"CallbackCommand":"Live.Callback\u0042eforeSendGift"}`, want: "Live.CallbackBeforeSendGift"},
		{name: "no command", body: `{"RoomId":"r"}`, want: ""},
		{name: "command not a string", body: `{"CallbackCommand":7}`, want: ""},
		{name: "command nested only", body: `{"Info":{"CallbackCommand":"State.StateChange"}}`, want: ""},
		{name: "top-level array", body: `[{"CallbackCommand":"State.StateChange"}]`, want: ""},
		{name: "empty", body: "", want: ""},
		{name: "not JSON", body: "CallbackCommand=State.StateChange", want: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := CommandFromBody([]byte(tt.body)), tt.want; got != want {
				t.Errorf("CommandFromBody(%q) = %q, want %q", tt.body, got, want)
			}
		})
	}
}

func TestEnvelope(t *testing.T) {
	tests := []struct {
		name string
		code int64
		info string
		want string
	}{
		{name: "allow", code: 0, info: "", want: `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`},
		{name: "gift deny", code: 102101, info: "gift service unavailable", want: `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"gift service unavailable"}`},
		{name: "default deny", code: DenyCodeDefault, info: "", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":""}`},
		{name: "negative code", code: -5, info: "x", want: `{"ActionStatus":"OK","ErrorCode":-5,"ErrorInfo":"x"}`},
		{name: "quotes and backslash", code: 1, info: `say "no" \ now`, want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"say \"no\" \\ now"}`},
		{name: "newline, tab and carriage return", code: 1, info: "a\nb\tc\rd", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"a\nb\tc\rd"}`},
		{name: "control characters", code: 1, info: "bell\a nul\x00 esc\x1b", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"bell\u0007 nul\u0000 esc\u001b"}`},
		{name: "non-ASCII kept as is", code: 1, info: "礼物服务不可用 🎁", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"礼物服务不可用 🎁"}`},
		{name: "HTML characters kept as is", code: 1, info: "<b>&</b>", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"<b>&</b>"}`},
		{name: "invalid UTF-8 replaced", code: 1, info: "a\xffb", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"a\ufffdb"}`},
		{name: "line separators escaped", code: 1, info: "a\u2028b\u2029c", want: `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"a\u2028b\u2029c"}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Envelope(tt.code, tt.info)
			if got, want := string(got), tt.want; got != want {
				t.Errorf("Envelope(%d, %q) =\n %s\nwant\n %s", tt.code, tt.info, got, want)
			}
			if !IsEnvelope(got) {
				t.Errorf("IsEnvelope(Envelope(%d, %q)) = false, want true", tt.code, tt.info)
			}
			var decoded struct {
				ActionStatus string
				ErrorCode    int64
				ErrorInfo    string
			}
			if err := json.Unmarshal(got, &decoded); err != nil {
				t.Fatalf("Envelope(%d, %q) is not valid JSON: %v", tt.code, tt.info, err)
			}
			if got, want := decoded.ErrorCode, tt.code; got != want {
				t.Errorf("decoded ErrorCode = %d, want %d", got, want)
			}
			if got, want := decoded.ErrorInfo, strings.ToValidUTF8(tt.info, "\uFFFD"); got != want {
				t.Errorf("decoded ErrorInfo = %q, want %q", got, want)
			}
			if got, want := decoded.ActionStatus, "OK"; got != want {
				t.Errorf("decoded ActionStatus = %q, want %q", got, want)
			}
		})
	}
}

func TestAllowEnvelopeIsEnvelopeOfZero(t *testing.T) {
	if got, want := string(AllowEnvelope), string(Envelope(0, "")); got != want {
		t.Errorf("AllowEnvelope = %s, want %s", got, want)
	}
}
