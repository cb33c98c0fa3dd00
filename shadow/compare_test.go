package shadow_test

import (
	"testing"

	"github.com/callback-router/callback-router/internal/realpackets"
	"github.com/callback-router/callback-router/shadow"
)

// Answers as upstreams send them. The message rewrites follow Tencent's documented answer
// to a CallbackBeforeSendMsg (a replaced MsgBody, CloudCustomData echoed).
const (
	allow      = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`
	allowTerse = `{"ErrorCode":0}`
	deny       = `{"ActionStatus":"OK","ErrorCode":1,"ErrorInfo":"blocked"}`
	denyGift   = `{"ActionStatus":"OK","ErrorCode":102101,"ErrorInfo":"insufficient balance"}`
	dropSilent = `{"ActionStatus":"OK","ErrorCode":2,"ErrorInfo":""}`
	// echo repeats the callback's own message and custom data: no rewrite in effect.
	echo = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}}],"CloudCustomData":"your cloud custom data"}`
	// echoSpaced is echo with other spacing and key order.
	echoSpaced = "{\n \"ErrorCode\": 0,\n \"MsgBody\": [ { \"MsgContent\": { \"Text\": \"red packet\" }, \"MsgType\": \"TIMTextElem\" } ]\n}"
	// tagged appends a custom element (Tencent's own sample rewrite).
	tagged       = `{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"CustomElement.MemberLevel","Data":"LV1"}}],"CloudCustomData":"your cloud custom data"}`
	taggedOther  = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}},{"MsgType":"TIMCustomElem","MsgContent":{"Desc":"CustomElement.MemberLevel","Data":"LV2"}}]}`
	masked       = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"*** ******"}}]}`
	newCustom    = `{"ErrorCode":0,"CloudCustomData":"{\"level\":3}"}`
	refusedJared = `{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":"","RefusedMembers_Account":["jared"]}`
	refusedBoth  = `{"ErrorCode":0,"RefusedMembers_Account":["jared","leckie"]}`
	bigNumber    = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":144115233406643804}}]}`
	bigNumberOff = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":144115233406643805}}]}`
	floatSpelled = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":1.0}}]}`
	intSpelled   = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":1}}]}`
	strSpelled   = `{"ErrorCode":0,"MsgBody":[{"MsgType":"TIMCustomElem","MsgContent":{"Data":"1"}}]}`
)

// Real callbacks, replayed from the team's packet collection.
const (
	groupMsg  = "intl-doc__Group.CallbackBeforeSendMsg.json"
	liveMsg   = "tencent-doc-74347-live__Group.CallbackBeforeSendMsg.json"
	c2cMsg    = "intl-doc__C2C.CallbackBeforeSendMsg.json"
	gift      = "tencent-doc-72210__Live.CallbackBeforeSendGift.json"
	inviteReq = "intl-doc__Group.CallbackBeforeInviteJoinGroup.json"
)

func TestCompare(t *testing.T) {
	up := func(body string) shadow.Answer { return shadow.Answer{Body: []byte(body)} }
	fallback := func(body, reason string) shadow.Answer { return shadow.Answer{Body: []byte(body), Fallback: reason} }
	failed := func(why string) shadow.Answer { return shadow.Answer{Failure: why} }
	tests := []struct {
		name               string
		packet             string
		primary, candidate shadow.Answer
		want               shadow.Result
		wantPrimary        string
		wantCandidate      string
	}{
		{name: "both allow", packet: groupMsg, primary: up(allow), candidate: up(allowTerse), want: shadow.Agree,
			wantPrimary: "allow", wantCandidate: "allow"},
		{name: "both deny alike", packet: gift, primary: up(denyGift), candidate: up(`{"ErrorCode":102101,"ErrorInfo":"other words"}`), want: shadow.Agree,
			wantPrimary: "deny 102101", wantCandidate: "deny 102101"},
		{name: "allow against deny", packet: gift, primary: up(allow), candidate: up(denyGift), want: shadow.Verdict,
			wantPrimary: "allow", wantCandidate: "deny 102101"},
		{name: "deny against allow", packet: c2cMsg, primary: up(deny), candidate: up(allow), want: shadow.Verdict,
			wantPrimary: "deny 1", wantCandidate: "allow"},
		{name: "two deny codes", packet: groupMsg, primary: up(deny), candidate: up(dropSilent), want: shadow.Verdict,
			wantPrimary: "deny 1", wantCandidate: "deny 2"},
		{name: "a verdict beats a rewrite", packet: groupMsg, primary: up(masked), candidate: up(deny), want: shadow.Verdict},
		{name: "echoing the message is no rewrite", packet: groupMsg, primary: up(allow), candidate: up(echo), want: shadow.Agree,
			wantCandidate: "allow, sets MsgBody and CloudCustomData"},
		{name: "echo in other spacing and key order", packet: liveMsg, primary: up(echoSpaced), candidate: up(echo), want: shadow.Agree},
		{name: "the same rewrite", packet: c2cMsg, primary: up(tagged), candidate: up(tagged), want: shadow.Agree},
		{name: "a rewrite against none", packet: groupMsg, primary: up(allow), candidate: up(tagged), want: shadow.Rewrite},
		{name: "two rewrites", packet: liveMsg, primary: up(tagged), candidate: up(taggedOther), want: shadow.Rewrite},
		{name: "a masked message", packet: c2cMsg, primary: up(masked), candidate: up(echo), want: shadow.Rewrite},
		{name: "custom data only", packet: groupMsg, primary: up(allow), candidate: up(newCustom), want: shadow.Rewrite},
		{name: "refused members differ", packet: inviteReq, primary: up(refusedJared), candidate: up(refusedBoth), want: shadow.Rewrite},
		{name: "refused members alike", packet: inviteReq, primary: up(refusedJared), candidate: up(`{"ErrorCode":0,"RefusedMembers_Account":[ "jared" ]}`), want: shadow.Agree},
		{name: "ids past 2^53 stay apart", packet: groupMsg, primary: up(bigNumber), candidate: up(bigNumberOff), want: shadow.Rewrite},
		{name: "1.0 is 1", packet: groupMsg, primary: up(floatSpelled), candidate: up(intSpelled), want: shadow.Agree},
		{name: "\"1\" is not 1", packet: groupMsg, primary: up(strSpelled), candidate: up(intSpelled), want: shadow.Rewrite},
		{name: "candidate failed", packet: gift, primary: up(allow), candidate: failed("timeout"), want: shadow.ShadowFailed,
			wantCandidate: "no answer (timeout)"},
		{name: "both failed", packet: gift, primary: fallback(denyGift, "breaker_open"), candidate: failed("breaker_open"), want: shadow.ShadowFailed,
			wantPrimary: "fallback deny 102101 (breaker_open)"},
		{name: "the candidate answered a fallback", packet: groupMsg, primary: fallback(allow, "timeout"), candidate: up(deny), want: shadow.PrimaryFailed,
			wantPrimary: "fallback allow (timeout)", wantCandidate: "deny 1"},
		{name: "the candidate agreed with a fallback", packet: gift, primary: fallback(denyGift, "upstream_error"), candidate: up(denyGift), want: shadow.PrimaryFailed},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cb := realpackets.Load(t, tt.packet)
			got := shadow.Compare(cb, tt.primary, tt.candidate)
			if got.Result != tt.want {
				t.Errorf("Compare() result: got %q, want %q", got.Result, tt.want)
			}
			if tt.wantPrimary != "" && got.Primary != tt.wantPrimary {
				t.Errorf("Compare() primary: got %q, want %q", got.Primary, tt.wantPrimary)
			}
			if tt.wantCandidate != "" && got.Candidate != tt.wantCandidate {
				t.Errorf("Compare() candidate: got %q, want %q", got.Candidate, tt.wantCandidate)
			}
			// A comparison is symmetric in everything but who failed.
			if tt.primary.Fallback == "" && tt.candidate.Body != nil {
				if back := shadow.Compare(cb, tt.candidate, tt.primary).Result; back != got.Result {
					t.Errorf("Compare() swapped: got %q, want %q as the other way round", back, got.Result)
				}
			}
		})
	}
}

func TestDescribeNeverQuotesTheBody(t *testing.T) {
	secret := `{"ErrorCode":1,"ErrorInfo":"user 4711 has 3 strikes","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"private words"}}]}`
	got := shadow.Describe(shadow.Answer{Body: []byte(secret)})
	if want := "deny 1, sets MsgBody"; got != want {
		t.Errorf("Describe() = %q, want %q", got, want)
	}
}

func TestResultDisagrees(t *testing.T) {
	for _, r := range shadow.Results {
		want := r == shadow.Verdict || r == shadow.Rewrite || r == shadow.PrimaryFailed
		if got := r.Disagrees(); got != want {
			t.Errorf("%s.Disagrees() = %v, want %v", r, got, want)
		}
	}
}
