package callbacks_test

import (
	"encoding/json"
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/callback-router/callback-router/tencent"
)

// knownCommands lists every Live and Chat callback command the router knows, and the TRTC
// events it has samples of; each must have exactly one sample file.
var knownCommands = []string{
	// Live (Live callback URL).
	"Live.CallbackBeforeSendGift",
	"Live.CallbackAfterCreateRoom",
	"Live.CallbackAfterDestroyRoom",
	"Live.CallbackAfterUpdateRoomInfo",
	"Live.CallbackAfterSetMetadata",
	"Live.CallbackAfterDelMetadata",
	"Live.CallbackAfterCreateRoomReachingThreshold",
	"Live.CallbackAfterMemberStateChanged",
	"Live.CallbackAfterChangeOwner",
	"Live.CallbackAfterModifyAdmin",
	"Mic.CallbackAfterSeatInfoChanged",
	"Live.CallbackAfterCreateBattle",
	"Live.CallbackAfterStartBattle",
	"Live.CallbackAfterEndBattle",
	"Live.CallbackAfterCloudRecordingChanged",
	// Chat (Chat callback URL).
	"Group.CallbackBeforeSendMsg",
	"Group.CallbackAfterSendMsg",
	"Group.CallbackSendMsgException",
	"Group.CallbackOnMemberStateChange",
	"Group.CallbackBeforeCreateGroup",
	"Group.CallbackBeforeApplyJoinGroup",
	"Group.CallbackBeforeInviteJoinGroup",
	"Group.CallbackAfterNewMemberJoin",
	"Group.CallbackAfterMemberExit",
	"C2C.CallbackBeforeSendMsg",
	"C2C.CallbackAfterSendMsg",
	"State.StateChange",
	"Follow.CallbackAfterFollowAdd",
	"Follow.CallbackAfterFollowDelete",
	"Profile.CallbackPortraitSet",
	"Sns.CallbackPrevFriendAdd",
	"Alert.RequestOverLimit",
	// TRTC's event callbacks (TRTC console URL), named TRTC.<EventGroupId>.<EventType>:
	// room events (create, dismiss, enter, exit, change role), media events (video
	// start/stop, audio start) and cloud recording (recorder start, VOD commit).
	"TRTC.1.101", "TRTC.1.102", "TRTC.1.103", "TRTC.1.104", "TRTC.1.105",
	"TRTC.2.201", "TRTC.2.202", "TRTC.2.203",
	"TRTC.3.301", "TRTC.3.311",
}

// sampleFiles returns the command names of the *.json files in this directory, sorted.
func sampleFiles(t *testing.T) []string {
	t.Helper()
	paths, err := filepath.Glob("*.json")
	if err != nil {
		t.Fatal(err)
	}
	cmds := make([]string, 0, len(paths))
	for _, p := range paths {
		cmds = append(cmds, strings.TrimSuffix(p, ".json"))
	}
	slices.Sort(cmds)
	return cmds
}

// decodeSample decodes one sample file with UseNumber, so that no integer passes through float64,
// and fails unless the file holds exactly one JSON object.
func decodeSample(t *testing.T, command string) map[string]any {
	t.Helper()
	f, err := os.Open(command + ".json")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dec := json.NewDecoder(f)
	dec.UseNumber()
	var obj map[string]any
	if err := dec.Decode(&obj); err != nil {
		t.Fatalf("decode %s.json: %v", command, err)
	}
	if obj == nil {
		t.Fatalf("%s.json: got null, want a JSON object", command)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("%s.json: trailing data after the first JSON value (err %v)", command, err)
	}
	return obj
}

func TestEveryKnownCommandHasOneSample(t *testing.T) {
	got := sampleFiles(t)
	for _, cmd := range knownCommands {
		if _, found := slices.BinarySearch(got, cmd); !found {
			t.Errorf("missing sample %s.json", cmd)
		}
	}
	for _, cmd := range got {
		if !slices.Contains(knownCommands, cmd) {
			t.Errorf("sample %s.json is not in knownCommands: add the command there or remove the file", cmd)
		}
	}
	if got, want := len(got), len(knownCommands); got != want {
		t.Errorf("got %d sample files, want %d", got, want)
	}
}

func TestSamplesAreValidPackets(t *testing.T) {
	for _, cmd := range sampleFiles(t) {
		t.Run(cmd, func(t *testing.T) {
			obj := decodeSample(t, cmd)
			if tencent.IsTRTCCommand(cmd) {
				checkTRTCSample(t, cmd, obj)
				return
			}
			if got, want := obj["CallbackCommand"], any(cmd); got != want {
				t.Errorf("CallbackCommand = %v, want %q (the file name)", got, want)
			}
		})
	}
}

// checkTRTCSample checks a TRTC event sample as the router reads it: a TRTC event named as
// its file, with TRTC's fields (no CallbackCommand, a CallbackTs in ms, an EventInfo with
// the room and the event's time), in the catalogue.
func checkTRTCSample(t *testing.T, name string, obj map[string]any) {
	t.Helper()
	body, err := os.ReadFile(name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := tencent.ParseTRTCEvent(body)
	if err != nil {
		t.Fatalf("ParseTRTCEvent: %v", err)
	}
	if got := ev.Command(); got != name {
		t.Errorf("the body names %s, want %s (the file name)", got, name)
	}
	if _, ok := tencent.Lookup(name); !ok {
		t.Errorf("%s is not in tencent.Catalogue", name)
	}
	if ts, ok := obj["CallbackTs"].(json.Number); !ok || len(ts) != 13 {
		t.Errorf("CallbackTs = %v, want an integer in ms", obj["CallbackTs"])
	}
	info, ok := obj["EventInfo"].(map[string]any)
	if !ok {
		t.Fatalf("EventInfo = %v, want an object", obj["EventInfo"])
	}
	for _, field := range []string{"RoomId", "EventTs"} {
		if _, ok := info[field]; !ok {
			t.Errorf("EventInfo has no %s", field)
		}
	}
	if ev.Group == 3 {
		if _, ok := info["TaskId"]; !ok {
			t.Errorf("a recording event's EventInfo has no TaskId")
		}
	}
}

// TestTRTCSampleIsTencentsOwn: TRTC.1.103.json is the body of Tencent's signature example,
// byte for byte (tab-indented, no final newline): its Sign under a key matches the one
// computed outside Go, so a TRTC handler's verification can be tried on it.
func TestTRTCSampleIsTencentsOwn(t *testing.T) {
	body, err := os.ReadFile("TRTC.1.103.json")
	if err != nil {
		t.Fatal(err)
	}
	const want = "{\n\t\"EventGroupId\":\t1,\n\t\"EventType\":\t103,\n\t\"CallbackTs\":\t1615554923704,\n\t\"EventInfo\":\t{\n\t\t\"RoomId\":\t12345,\n\t\t\"EventTs\":\t1608441737,\n\t\t\"UserId\":\t\"test\",\n\t\t\"UniqueId\":\t1615554922656,\n\t\t\"Role\":\t20,\n\t\t\"Reason\":\t1\n\t}\n}"
	if string(body) != want {
		t.Fatalf("TRTC.1.103.json = %q, want Tencent's sample %q", body, want)
	}
	// openssl dgst -sha256 -hmac Ab12Cd34Ef56 -binary TRTC.1.103.json | base64
	if got, want := tencent.SignTRTC("Ab12Cd34Ef56", body), "vL1pEK4pwrasaRnaUxcjToIbLfPabQdrW68AX3LSWeY="; got != want {
		t.Errorf("Sign = %s, want %s", got, want)
	}
}

// TestQuirksSurvive checks the data quirks of real Tencent packets that the samples keep on purpose:
// big unquoted integer IDs and the mixed types of EventTime.
func TestQuirksSurvive(t *testing.T) {
	bigIDs := []struct {
		command string
		path    []any // object keys (string) and array indexes (int)
		want    json.Number
	}{
		{"Mic.CallbackAfterSeatInfoChanged", []any{"SeatList", 0, "Member_Account"}, "144115233775727695"},
		{"Live.CallbackAfterEndBattle", []any{"FromRoomInfo", "Owner_Account"}, "144115245353757792"},
		{"Live.CallbackAfterEndBattle", []any{"ToRoomList", 0, "Owner_Account"}, "144115245442327522"},
		{"Live.CallbackAfterDestroyRoom", []any{"RoomInfo", "Owner_Account"}, "144115216631667826"},
	}
	for _, tc := range bigIDs {
		t.Run("big id "+tc.command, func(t *testing.T) {
			v, err := lookup(decodeSample(t, tc.command), tc.path)
			if err != nil {
				t.Fatal(err)
			}
			n, ok := v.(json.Number)
			if !ok {
				t.Fatalf("%v: got %T %v, want an unquoted json.Number", tc.path, v, v)
			}
			if n != tc.want {
				t.Errorf("%v = %s, want %s", tc.path, n, tc.want)
			}
			i, err := n.Int64()
			if err != nil {
				t.Fatalf("%v = %s is not an integer: %v", tc.path, n, err)
			}
			// The quirk is only a quirk above 2^53, where float64 cannot hold every integer.
			if i <= 1<<53 {
				t.Errorf("%v = %s is not above 2^53", tc.path, n)
			}
		})
	}

	stringEventTime := []string{
		"Group.CallbackBeforeSendMsg",
		"Group.CallbackAfterSendMsg",
		"Group.CallbackSendMsgException",
	}
	for _, cmd := range sampleFiles(t) {
		obj := decodeSample(t, cmd)
		v, ok := obj["EventTime"]
		if !ok {
			continue
		}
		switch {
		case slices.Contains(stringEventTime, cmd):
			if _, isString := v.(string); !isString {
				t.Errorf("%s: EventTime is %T, want a string as in Tencent's Group message samples", cmd, v)
			}
		default:
			n, isNumber := v.(json.Number)
			ms, err := n.Int64()
			// Milliseconds since 2001 have 13 digits; seconds have 10.
			if !isNumber || err != nil || ms < 1e12 {
				t.Errorf("%s: EventTime = %v (%T), want an integer in ms", cmd, v, v)
			}
		}
	}

	t.Run("opType lower case", func(t *testing.T) {
		obj := decodeSample(t, "Live.CallbackAfterModifyAdmin")
		if _, ok := obj["opType"]; !ok {
			t.Errorf("Live.CallbackAfterModifyAdmin: no opType key (keys are case-sensitive)")
		}
	})
}

// lookup follows path through decoded JSON.
func lookup(v any, path []any) (any, error) {
	for _, step := range path {
		switch key := step.(type) {
		case string:
			obj, ok := v.(map[string]any)
			if !ok {
				return nil, errors.New("not an object at " + key)
			}
			if v, ok = obj[key]; !ok {
				return nil, errors.New("no key " + key)
			}
		case int:
			arr, ok := v.([]any)
			if !ok || key >= len(arr) {
				return nil, errors.New("no array element")
			}
			v = arr[key]
		}
	}
	return v, nil
}
