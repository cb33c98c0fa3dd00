package tencent

import (
	"strconv"
	"testing"
	"time"
)

func BenchmarkVerifySign(b *testing.B) {
	now := time.Now()
	rt := strconv.FormatInt(now.Unix(), 10)
	tokens := []string{"console-token"}
	sign := Sign(tokens[0], rt)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := VerifySign(tokens, sign, rt, now, time.Minute); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkParseQuery(b *testing.B) {
	raw := "SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android&Sign=17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061&RequestTime=1669872112"
	b.ReportAllocs()
	for b.Loop() {
		if ParseQuery(raw).CallbackCommand == "" {
			b.Fatal("no command")
		}
	}
}

func BenchmarkIsEnvelope(b *testing.B) {
	body := []byte(`{"ActionStatus":"OK","ErrorInfo":"","ErrorCode":0,"MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}}],"CloudCustomData":"your cloud custom data"}`)
	b.ReportAllocs()
	for b.Loop() {
		if !IsEnvelope(body) {
			b.Fatal("not an envelope")
		}
	}
}

// BenchmarkVerifySignMismatch times refusals of a Sign wrong in its first byte and in its
// last: the compare runs on whole digests in constant time, so the two take the same time
// and an attacker cannot learn a Sign byte by byte. RELIABILITY.md quotes the figures.
func BenchmarkVerifySignMismatch(b *testing.B) {
	now := time.Now()
	rt := strconv.FormatInt(now.Unix(), 10)
	tokens := []string{"console-token"}
	good := Sign(tokens[0], rt)
	flip := func(i int) string {
		c := byte('0')
		if good[i] == '0' {
			c = '1'
		}
		return good[:i] + string(c) + good[i+1:]
	}
	for _, bc := range []struct {
		name string
		sign string
	}{{"first byte wrong", flip(0)}, {"last byte wrong", flip(len(good) - 1)}, {"right", good}} {
		b.Run(bc.name, func(b *testing.B) {
			for b.Loop() {
				_, _ = VerifySign(tokens, bc.sign, rt, now, time.Minute)
			}
		})
	}
}

// BenchmarkParseTRTCEvent measures recognising Tencent's tab-indented sample event, and
// turning away a Chat body (what a body without a command costs when it is not TRTC's).
func BenchmarkParseTRTCEvent(b *testing.B) {
	for _, bc := range []struct{ name, body string }{
		{"trtc", trtcVectorBody},
		{"not-trtc", `{"GroupId":"@TGS#2J4SZEAEL","Type":"Live","From_Account":"jared","MsgBody":[{"MsgType":"TIMTextElem","MsgContent":{"Text":"red packet"}}]}`},
	} {
		body := []byte(bc.body)
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_, _ = ParseTRTCEvent(body)
			}
		})
	}
}

// BenchmarkVerifyTRTCSign measures verifying the Sign of the sample event.
func BenchmarkVerifyTRTCSign(b *testing.B) {
	body := []byte(trtcVectorBody)
	b.ReportAllocs()
	for b.Loop() {
		if err := VerifyTRTCSign(trtcVectorKey, body, trtcVectorSign); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkQueryCommand times reading the command of Tencent's gift callback, named in the
// query and in the body: the body's top-level keys are walked to find a second, different
// one (ambiguous_command).
func BenchmarkQueryCommand(b *testing.B) {
	q := ParseQuery("SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json")
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000},"Member_Account":144115233775727695}`)
	b.ReportAllocs()
	for b.Loop() {
		if c, err := q.Command(body); err != nil || c == "" {
			b.Fatal(c, err)
		}
	}
}

// BenchmarkCheckBodyApp times looking for a SdkAppid among the top-level keys of Tencent's
// gift callback (there is none), a walk like BenchmarkQueryCommand's.
func BenchmarkCheckBodyApp(b *testing.B) {
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000},"Member_Account":144115233775727695}`)
	b.ReportAllocs()
	for b.Loop() {
		if err := CheckBodyApp(body, "1400000001"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkNames times reading the command and the app of Tencent's gift callback in one
// walk: what BenchmarkQueryCommand and BenchmarkCheckBodyApp do in two.
func BenchmarkNames(b *testing.B) {
	q := ParseQuery("SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json")
	body := []byte(`{"CallbackCommand":"Live.CallbackBeforeSendGift","Operator_Account":"brennanli","RoomId":"room_id","GiftWater":{"From_Account":"from","To_Account":["to1"],"Time":1703589922,"GiftId":"gift1","Count":1,"Coins":1000},"Member_Account":144115233775727695}`)
	b.ReportAllocs()
	for b.Loop() {
		if n := q.Names(body); n.CommandErr != nil || n.Command == "" || n.OtherApp {
			b.Fatal(n)
		}
	}
}
