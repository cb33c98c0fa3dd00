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
		if err := VerifySign(tokens, sign, rt, now, time.Minute); err != nil {
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
