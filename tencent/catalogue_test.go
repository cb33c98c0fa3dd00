package tencent

import (
	"strings"
	"testing"
)

func TestAcceptsDenyCode(t *testing.T) {
	tests := []struct {
		name    string
		command string
		code    int64
		want    bool
	}{
		// Live.CallbackBeforeSendGift: any non-zero denies.
		{name: "gift 1", command: "Live.CallbackBeforeSendGift", code: 1, want: true},
		{name: "gift 102101 passed to the sender", command: "Live.CallbackBeforeSendGift", code: 102101, want: true},
		{name: "gift 999", command: "Live.CallbackBeforeSendGift", code: 999, want: true},
		{name: "gift 0", command: "Live.CallbackBeforeSendGift", code: 0, want: false},

		// Group.CallbackBeforeSendMsg: 1, 2 (drop silently), [10100, 10200].
		{name: "group msg 1", command: "Group.CallbackBeforeSendMsg", code: 1, want: true},
		{name: "group msg 2 drops silently", command: "Group.CallbackBeforeSendMsg", code: 2, want: true},
		{name: "group msg 10100 lower bound", command: "Group.CallbackBeforeSendMsg", code: 10100, want: true},
		{name: "group msg 10200 upper bound", command: "Group.CallbackBeforeSendMsg", code: 10200, want: true},
		{name: "group msg 3", command: "Group.CallbackBeforeSendMsg", code: 3, want: false},
		{name: "group msg 10099 below range", command: "Group.CallbackBeforeSendMsg", code: 10099, want: false},
		{name: "group msg 10201 above range", command: "Group.CallbackBeforeSendMsg", code: 10201, want: false},
		{name: "group msg 0", command: "Group.CallbackBeforeSendMsg", code: 0, want: false},

		// C2C.CallbackBeforeSendMsg: 1, 2, [120001, 130000].
		{name: "c2c 1", command: "C2C.CallbackBeforeSendMsg", code: 1, want: true},
		{name: "c2c 2", command: "C2C.CallbackBeforeSendMsg", code: 2, want: true},
		{name: "c2c 120001 lower bound", command: "C2C.CallbackBeforeSendMsg", code: 120001, want: true},
		{name: "c2c 130000 upper bound", command: "C2C.CallbackBeforeSendMsg", code: 130000, want: true},
		{name: "c2c 120000 below range", command: "C2C.CallbackBeforeSendMsg", code: 120000, want: false},
		{name: "c2c 10100 is a group code", command: "C2C.CallbackBeforeSendMsg", code: 10100, want: false},
		{name: "c2c 3", command: "C2C.CallbackBeforeSendMsg", code: 3, want: false},

		// Group event before-callbacks: 1, [10100, 10200]; no silent drop.
		{name: "create group 1", command: "Group.CallbackBeforeCreateGroup", code: 1, want: true},
		{name: "create group 2 is not a deny", command: "Group.CallbackBeforeCreateGroup", code: 2, want: false},
		{name: "create group 10150", command: "Group.CallbackBeforeCreateGroup", code: 10150, want: true},
		{name: "apply join 10201", command: "Group.CallbackBeforeApplyJoinGroup", code: 10201, want: false},
		{name: "invite join 10200", command: "Group.CallbackBeforeInviteJoinGroup", code: 10200, want: true},

		// Sns.CallbackPrevFriendAdd: 1 only.
		{name: "friend add 1", command: "Sns.CallbackPrevFriendAdd", code: 1, want: true},
		{name: "friend add 2", command: "Sns.CallbackPrevFriendAdd", code: 2, want: false},

		// Notifications ignore the answer: any non-zero code is harmless, 0 is never a deny.
		{name: "notification 1", command: "Live.CallbackAfterCreateRoom", code: 1, want: true},
		{name: "notification 3", command: "Group.CallbackAfterSendMsg", code: 3, want: true},
		{name: "notification 10099", command: "State.StateChange", code: 10099, want: true},
		{name: "notification -1", command: "Alert.RequestOverLimit", code: -1, want: true},
		{name: "notification 0", command: "Live.CallbackAfterCreateRoom", code: 0, want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := Lookup(tt.command)
			if !ok {
				t.Fatalf("Lookup(%q) found nothing", tt.command)
			}
			if got, want := c.AcceptsDenyCode(tt.code), tt.want; got != want {
				t.Errorf("%s.AcceptsDenyCode(%d) = %v, want %v (accepts %s)", tt.command, tt.code, got, want, c.DenyCodesText())
			}
		})
	}
}

func TestDenyCodesText(t *testing.T) {
	tests := []struct {
		command string
		want    string
	}{
		{command: "Live.CallbackBeforeSendGift", want: "any non-zero code"},
		{command: "Group.CallbackBeforeSendMsg", want: "[1, 2], [10100, 10200]"},
		{command: "C2C.CallbackBeforeSendMsg", want: "[1, 2], [120001, 130000]"},
		{command: "Group.CallbackBeforeCreateGroup", want: "1, [10100, 10200]"},
		{command: "Live.CallbackAfterCreateRoom", want: "any non-zero code"},
	}
	for _, tt := range tests {
		t.Run(tt.command, func(t *testing.T) {
			c, _ := Lookup(tt.command)
			if got, want := c.DenyCodesText(), tt.want; got != want {
				t.Errorf("DenyCodesText() = %q, want %q", got, want)
			}
		})
	}
}

func TestKindOf(t *testing.T) {
	tests := []struct {
		name    string
		command string
		want    Kind
	}{
		{name: "known gift", command: "Live.CallbackBeforeSendGift", want: Decision},
		{name: "known group message", command: "Group.CallbackBeforeSendMsg", want: Decision},
		{name: "known Prev", command: "Sns.CallbackPrevFriendAdd", want: Decision},
		{name: "known after", command: "Live.CallbackAfterCreateRoom", want: Notification},
		{name: "known without Before or After", command: "State.StateChange", want: Notification},
		{name: "known alias spelling", command: "Live.CallbackMemberStateChanged", want: Notification},
		{name: "unknown Before", command: "Live.CallbackBeforeTakeSeat", want: Decision},
		{name: "unknown Prev", command: "Sns.CallbackPrevFriendDelete", want: Decision},
		{name: "unknown After", command: "Live.CallbackAfterSomethingNew", want: Notification},
		{name: "unknown plain", command: "Foo.Bar", want: Notification},
		{name: "empty", command: "", want: Notification},
		// The naming rule is case-sensitive, as Tencent's command names are.
		{name: "unknown lower-case before", command: "live.callbackbeforefoo", want: Notification},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got, want := KindOf(tt.command), tt.want; got != want {
				t.Errorf("KindOf(%q) = %v, want %v", tt.command, got, want)
			}
		})
	}
}

func TestCatalogueDecisionsFollowNamingRule(t *testing.T) {
	// Every catalogued command's kind agrees with the Before/Prev naming rule that KindOf
	// applies to unknown commands, so the rule and the table cannot drift apart silently.
	for _, c := range Catalogue {
		t.Run(c.Name, func(t *testing.T) {
			byName := Notification
			if strings.Contains(c.Name, "Before") || strings.Contains(c.Name, "Prev") {
				byName = Decision
			}
			if got, want := c.Kind, byName; got != want {
				t.Errorf("Catalogue kind of %s = %v, want %v by its name", c.Name, got, want)
			}
		})
	}
}
