package delivery

import (
	"testing"
	"time"
)

func TestEventID(t *testing.T) {
	const body = `{"CallbackCommand":"Live.CallbackAfterEndBattle","BattleId":"b1"}`
	base := EventID("Live.CallbackAfterEndBattle", "SdkAppid=1&CallbackCommand=Live.CallbackAfterEndBattle&Sign=aa&RequestTime=1", []byte(body))
	tests := []struct {
		name, command, query, body string
		same                       bool
	}{
		{name: "a retry signed anew", command: "Live.CallbackAfterEndBattle", query: "SdkAppid=1&CallbackCommand=Live.CallbackAfterEndBattle&Sign=bb&RequestTime=2", body: body, same: true},
		{name: "parameters reordered and recased", command: "Live.CallbackAfterEndBattle", query: "callbackcommand=Live.CallbackAfterEndBattle&SDKAPPID=1", body: body, same: true},
		{name: "another app", command: "Live.CallbackAfterEndBattle", query: "SdkAppid=2&CallbackCommand=Live.CallbackAfterEndBattle", body: body, same: false},
		{name: "another body", command: "Live.CallbackAfterEndBattle", query: "SdkAppid=1&CallbackCommand=Live.CallbackAfterEndBattle", body: body + " ", same: false},
		{name: "another command", command: "Live.CallbackAfterStartBattle", query: "SdkAppid=1&CallbackCommand=Live.CallbackAfterEndBattle", body: body, same: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := EventID(tt.command, tt.query, []byte(tt.body))
			if (got == base) != tt.same {
				t.Errorf("EventID = %s, base %s: same = %v, want %v", got, base, got == base, tt.same)
			}
			if len(got) != 32 {
				t.Errorf("EventID %q has %d characters, want 32", got, len(got))
			}
		})
	}
}

// TestJournalEventIDTellsIdenticalGiftsApart: two gifts with the same body are two
// callbacks, each journaled, whatever Tencent's query looks like — in particular when it
// ends with Sign or RequestTime, which the canonical query leaves out.
func TestJournalEventIDTellsIdenticalGiftsApart(t *testing.T) {
	const command = "Live.CallbackBeforeSendGift"
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"Time":1703589922,"GiftId":"g","Count":1}}`)
	const tencentQuery = "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=1.2.3.4&OptPlatform=RESTAPI"
	const sign = "Sign=4c1b9e2c4f4b0d8e1a7c3f5e9b2d6a8c0e4f7a1b3c5d7e9f1a2b4c6d8e0f2a4b"
	tests := []struct{ name, query string }{
		{"bare app id", "SdkAppid=1"},
		{"Tencent's order, RequestTime last", tencentQuery + "&" + sign + "&RequestTime=1703589922"},
		{"Sign last", tencentQuery + "&RequestTime=1703589922&" + sign},
		{"Sign and RequestTime first", "RequestTime=1703589922&" + sign + "&" + tencentQuery},
		{"empty", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := JournalEventID(command, tt.query, body, "rid-1")
			b := JournalEventID(command, tt.query, body, "rid-2")
			if a == b {
				t.Errorf("journal ids of requests rid-1 and rid-2 are both %s, want different", a)
			}
			if again := JournalEventID(command, tt.query, body, "rid-1"); again != a {
				t.Errorf("journal id of rid-1 = %s then %s, want stable", a, again)
			}
			if ev := EventID(command, tt.query, body); ev == a {
				t.Errorf("journal id %s = the callback's event id, want different", a)
			}
		})
	}
}

func TestOrderKey(t *testing.T) {
	tests := []struct{ body, want string }{
		{`{"RoomId":"room_1","GroupId":"g"}`, "room_1"},
		{`{"GroupId":"@TGS#2J4SZEAEL"}`, "@TGS#2J4SZEAEL"},
		{`{"RoomInfo":{"RoomId":"r2"}}`, "r2"},
		{`{"FromRoomInfo":{"RoomId":"pk-3"}}`, "pk-3"},
		{`{"Info":{"To_Account":"u"}}`, ""},
		{`not json`, ""},
	}
	for _, tt := range tests {
		if got := OrderKey([]byte(tt.body)); got != tt.want {
			t.Errorf("OrderKey(%s) = %q, want %q", tt.body, got, tt.want)
		}
	}
}

func TestBackoffWait(t *testing.T) {
	b := Backoff{Initial: 100 * time.Millisecond, Max: time.Second}
	tests := []struct {
		n      int
		lo, hi time.Duration
	}{
		{0, 50 * time.Millisecond, 100 * time.Millisecond},
		{2, 200 * time.Millisecond, 400 * time.Millisecond},
		{10, 500 * time.Millisecond, time.Second},
		{1000, 500 * time.Millisecond, time.Second},
	}
	for _, tt := range tests {
		for range 50 {
			if got := b.Wait(tt.n); got < tt.lo || got > tt.hi {
				t.Errorf("Wait(%d) = %s, want within [%s, %s]", tt.n, got, tt.lo, tt.hi)
			}
		}
	}
}
