package delivery

import "github.com/tidwall/gjson"

// roomPaths are where Tencent's callbacks name the room or group they concern, most
// common first (PROTOCOL.md, section 5).
var roomPaths = []string{"RoomId", "GroupId", "RoomInfo.RoomId", "FromRoomInfo.RoomId"}

// OrderKey returns the room a callback concerns, "" when it names none: the callbacks of one
// room are delivered in order when the route asks for it. The body is not decoded, only
// scanned, so an invalid body simply has no room.
func OrderKey(body []byte) string {
	for _, p := range roomPaths {
		if r := gjson.GetBytes(body, p); r.Exists() && r.Type != gjson.JSON {
			return r.String()
		}
	}
	return ""
}
