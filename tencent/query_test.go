package tencent

import "testing"

func TestParseQuery(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want Query
	}{
		{
			name: "Tencent's sample request line",
			raw:  "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android&Sign=abc&RequestTime=1669872112",
			want: Query{SdkAppID: "1400000001", CallbackCommand: "Live.CallbackBeforeSendGift", ClientIP: "203.0.113.7", OptPlatform: "Android", Sign: "abc", RequestTime: "1669872112"},
		},
		{name: "SdkAppid", raw: "SdkAppid=1", want: Query{SdkAppID: "1"}},
		{name: "SdkAppId as the Live overview spells it", raw: "SdkAppId=2", want: Query{SdkAppID: "2"}},
		{name: "sdkappid lower case", raw: "sdkappid=3", want: Query{SdkAppID: "3"}},
		{name: "every name in upper case", raw: "SDKAPPID=4&CALLBACKCOMMAND=C&CLIENTIP=ip&OPTPLATFORM=iOS&SIGN=s&REQUESTTIME=5", want: Query{SdkAppID: "4", CallbackCommand: "C", ClientIP: "ip", OptPlatform: "iOS", Sign: "s", RequestTime: "5"}},
		{name: "WebhookCommand alias", raw: "WebhookCommand=Live.CallbackAfterCreateRoom", want: Query{CallbackCommand: "Live.CallbackAfterCreateRoom", WebhookCommand: "Live.CallbackAfterCreateRoom"}},
		{name: "webhookcommand alias in lower case", raw: "webhookcommand=Live.CallbackAfterCreateRoom", want: Query{CallbackCommand: "Live.CallbackAfterCreateRoom", WebhookCommand: "Live.CallbackAfterCreateRoom"}},
		{name: "CallbackCommand wins over WebhookCommand before it", raw: "WebhookCommand=Alias.Cmd&CallbackCommand=Real.Cmd", want: Query{CallbackCommand: "Real.Cmd", WebhookCommand: "Alias.Cmd"}},
		{name: "CallbackCommand wins over WebhookCommand after it", raw: "CallbackCommand=Real.Cmd&WebhookCommand=Alias.Cmd", want: Query{CallbackCommand: "Real.Cmd", WebhookCommand: "Alias.Cmd"}},
		{name: "percent-encoded values", raw: "CallbackCommand=Live.Callback%42eforeSendGift&ClientIP=2001%3Adb8%3A%3A1&OptPlatform=mac+OS", want: Query{CallbackCommand: "Live.CallbackBeforeSendGift", ClientIP: "2001:db8::1", OptPlatform: "mac OS"}},
		{name: "invalid percent-encoding kept raw", raw: "Sign=%zz", want: Query{Sign: "%zz"}},
		{name: "empty", raw: "", want: Query{}},
		{name: "only separators", raw: "&&&", want: Query{}},
		{name: "unknown parameters ignored", raw: "contenttype=json&foo=bar&SdkAppid=1", want: Query{SdkAppID: "1"}},
		{name: "repeated parameter: the first wins, as url.Values.Get", raw: "SdkAppid=1&SdkAppid=2", want: Query{SdkAppID: "1", Conflict: "SdkAppid"}},
		{name: "repeated parameter with another spelling: the first wins, and it is a conflict", raw: "SdkAppid=1&sdkappid=2", want: Query{SdkAppID: "1", Conflict: "SdkAppid"}},
		{name: "repeated parameter with the same value is no conflict", raw: "SdkAppid=1&SDKAPPID=1", want: Query{SdkAppID: "1"}},
		{name: "percent-encoded name is read as url.ParseQuery reads it", raw: "Sdk%41ppid=2&SdkAppid=1", want: Query{SdkAppID: "2", Conflict: "SdkAppid"}},
		{name: "percent-encoded value of a repeated Sign", raw: "Sign=a%62&Sign=ab", want: Query{Sign: "ab"}},
		{name: "parameter without '=' is empty", raw: "Sign&RequestTime=5", want: Query{RequestTime: "5"}},
		{name: "parameter without = after a value: the first wins", raw: "SdkAppid=1&SdkAppid", want: Query{SdkAppID: "1", Conflict: "SdkAppid"}},
		{name: "value containing '='", raw: "Sign=a=b", want: Query{Sign: "a=b"}},
		{name: "empty value", raw: "CallbackCommand=&SdkAppid=1", want: Query{SdkAppID: "1"}},
		{name: "an empty first value is the first, as for url.Values.Get", raw: "SdkAppid&sdkAppid=0", want: Query{Conflict: "SdkAppid"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := ParseQuery(tt.raw), tt.want; got != want {
				t.Errorf("ParseQuery(%q)\n got %+v\nwant %+v", tt.raw, got, want)
			}
		})
	}
}
