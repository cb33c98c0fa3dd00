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
// callbacks, each journaled.
func TestJournalEventIDTellsIdenticalGiftsApart(t *testing.T) {
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"Time":1703589922,"GiftId":"g","Count":1}}`)
	a := JournalEventID("Live.CallbackBeforeSendGift", "SdkAppid=1", body, "rid-1")
	b := JournalEventID("Live.CallbackBeforeSendGift", "SdkAppid=1", body, "rid-2")
	if a == b || a != JournalEventID("Live.CallbackBeforeSendGift", "SdkAppid=1", body, "rid-1") {
		t.Errorf("journal ids %s, %s: want different for two requests, stable for one", a, b)
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
