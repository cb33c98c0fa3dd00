package tencent

import (
	"slices"
	"strconv"
	"strings"
)

// Kind says whether Tencent waits for a decision on a callback or only notifies.
type Kind int

const (
	// Notification callbacks report something that already happened; Tencent ignores the answer.
	Notification Kind = iota
	// Decision callbacks ("Before"/"Prev") wait for ErrorCode to allow or refuse an action.
	Decision
)

// codeRange is an inclusive range of ErrorCodes.
type codeRange struct{ lo, hi int64 }

// Command describes a callback command Tencent is documented to send.
type Command struct {
	Name string
	Kind Kind
	// denyCodes lists the non-zero ErrorCodes Tencent accepts as a deny for this command.
	// Empty for a Decision command means any non-zero code denies.
	denyCodes []codeRange
}

// Deny code sets from the protocol: 1 refuses; 2 drops a message silently; the ranges are
// passed through to the sender's client.
var (
	groupMsgCodes   = []codeRange{{1, 2}, {10100, 10200}}
	c2cMsgCodes     = []codeRange{{1, 2}, {120001, 130000}}
	groupEventCodes = []codeRange{{1, 1}, {10100, 10200}}
	plainDenyCodes  = []codeRange{{1, 1}}
)

// Catalogue lists the commands known when this was written. Tencent adds commands over time;
// unknown ones are still routed, and KindOf guesses their kind from the name.
var Catalogue = []Command{
	{Name: "Live.CallbackBeforeSendGift", Kind: Decision}, // any non-zero denies; [102100,102200] reach the sender
	{Name: "Live.CallbackAfterCreateRoom"},
	{Name: "Live.CallbackAfterDestroyRoom"},
	{Name: "Live.CallbackAfterUpdateRoomInfo"},
	{Name: "Live.CallbackAfterSetMetadata"},
	{Name: "Live.CallbackAfterDelMetadata"},
	{Name: "Live.CallbackAfterCreateRoomReachingThreshold"},
	{Name: "Live.CallbackAfterMemberStateChanged"},
	{Name: "Live.CallbackMemberStateChanged"}, // spelling used by one documentation table
	{Name: "Live.CallbackAfterChangeOwner"},
	{Name: "Live.CallbackAfterModifyAdmin"},
	{Name: "Mic.CallbackAfterSeatInfoChanged"},
	{Name: "Live.CallbackAfterCreateBattle"},
	{Name: "Live.CallbackAfterStartBattle"},
	{Name: "Live.CallbackAfterEndBattle"},
	{Name: "Live.CallbackAfterCloudRecordingChanged"},
	{Name: "Group.CallbackBeforeSendMsg", Kind: Decision, denyCodes: groupMsgCodes},
	{Name: "Group.CallbackAfterSendMsg"},
	{Name: "Group.CallbackSendMsgException"},
	{Name: "Group.CallbackOnMemberStateChange"},
	{Name: "Group.CallbackBeforeCreateGroup", Kind: Decision, denyCodes: groupEventCodes},
	{Name: "Group.CallbackBeforeApplyJoinGroup", Kind: Decision, denyCodes: groupEventCodes},
	{Name: "Group.CallbackBeforeInviteJoinGroup", Kind: Decision, denyCodes: groupEventCodes},
	{Name: "Group.CallbackAfterNewMemberJoin"},
	{Name: "Group.CallbackAfterMemberExit"},
	{Name: "C2C.CallbackBeforeSendMsg", Kind: Decision, denyCodes: c2cMsgCodes},
	{Name: "C2C.CallbackAfterSendMsg"},
	{Name: "State.StateChange"},
	{Name: "Follow.CallbackAfterFollowAdd"},
	{Name: "Follow.CallbackAfterFollowDelete"},
	{Name: "Profile.CallbackPortraitSet"},
	{Name: "Sns.CallbackPrevFriendAdd", Kind: Decision, denyCodes: plainDenyCodes},
	{Name: "Alert.RequestOverLimit"},

	// TRTC's event callbacks, named TRTC.<EventGroupId>.<EventType> (see TRTCEvent). All
	// are notifications: TRTC needs HTTP 200 and ignores the body.
	// Room events (group 1): create, dismiss, enter, exit, change role.
	{Name: "TRTC.1.101"}, {Name: "TRTC.1.102"}, {Name: "TRTC.1.103"}, {Name: "TRTC.1.104"}, {Name: "TRTC.1.105"},
	// Media events (group 2): start/stop video, audio and substream.
	{Name: "TRTC.2.201"}, {Name: "TRTC.2.202"}, {Name: "TRTC.2.203"}, {Name: "TRTC.2.204"}, {Name: "TRTC.2.205"}, {Name: "TRTC.2.206"},
	// Cloud recording (group 3): recorder start and stop, upload start, file info, upload
	// stop, failover, file slice, image download error, MP4 stop, VOD commit and stop.
	{Name: "TRTC.3.301"}, {Name: "TRTC.3.302"}, {Name: "TRTC.3.303"}, {Name: "TRTC.3.304"}, {Name: "TRTC.3.305"},
	{Name: "TRTC.3.306"}, {Name: "TRTC.3.307"}, {Name: "TRTC.3.309"}, {Name: "TRTC.3.310"}, {Name: "TRTC.3.311"},
	{Name: "TRTC.3.312"},
}

// Lookup returns the catalogue entry of a command, matched exactly.
func Lookup(name string) (Command, bool) {
	i := slices.IndexFunc(Catalogue, func(c Command) bool { return c.Name == name })
	if i < 0 {
		return Command{}, false
	}
	return Catalogue[i], true
}

// KindOf returns a command's kind: from the catalogue when known, else by Tencent's naming
// rule that a command containing "Before" or "Prev" expects a decision.
func KindOf(name string) Kind {
	if c, ok := Lookup(name); ok {
		return c.Kind
	}
	if strings.Contains(name, "Before") || strings.Contains(name, "Prev") {
		return Decision
	}
	return Notification
}

// AcceptsDenyCode reports whether Tencent treats code as a valid deny for this command. Any
// code is harmless on a notification, whose answer Tencent ignores.
func (c Command) AcceptsDenyCode(code int64) bool {
	if code == 0 {
		return false
	}
	if c.Kind != Decision || len(c.denyCodes) == 0 {
		return true
	}
	for _, r := range c.denyCodes {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// DenyCodesText describes the deny codes a command accepts, for error messages.
func (c Command) DenyCodesText() string {
	if c.Kind != Decision || len(c.denyCodes) == 0 {
		return "any non-zero code"
	}
	parts := make([]string, len(c.denyCodes))
	for i, r := range c.denyCodes {
		if r.lo == r.hi {
			parts[i] = strconv.FormatInt(r.lo, 10)
		} else {
			parts[i] = "[" + strconv.FormatInt(r.lo, 10) + ", " + strconv.FormatInt(r.hi, 10) + "]"
		}
	}
	return strings.Join(parts, ", ")
}
