package tencent

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"
)

// FuzzParseQuery checks that the router never reads a Tencent parameter differently from an
// upstream that parses the same query with net/url: unless ParseQuery reports a Conflict,
// every occurrence of SdkAppid (any spelling) that url.ParseQuery decodes carries the value
// the router checked. The corpus is in testdata/fuzz/FuzzParseQuery.
func FuzzParseQuery(f *testing.F) {
	for _, s := range []string{
		"SdkAppid=1400000001&CallbackCommand=Live.CallbackBeforeSendGift&contenttype=json&ClientIP=203.0.113.7&OptPlatform=Android&Sign=abc&RequestTime=1669872112",
		"SdkAppid=1&sdkappid=2", "Sdk%41ppid=2&SdkAppid=1", "SdkAppid=%zz&SdkAppid=1", "SdkAppid=1;x=2",
		"SdkAppid=1+&SdkAppid=1%20", "sdk+appid=1", "SdkAppid", "&&&=",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		q := ParseQuery(raw)
		if q.Conflict != "" {
			return // refused with 400: nobody acts on it
		}
		vals, _ := url.ParseQuery(raw) // keeps the pairs that parse, as an upstream would
		for name, vs := range vals {
			if !strings.EqualFold(name, "SdkAppid") {
				continue
			}
			for _, v := range vs {
				if v != q.SdkAppID {
					t.Fatalf("ParseQuery(%q).SdkAppID = %q, but net/url reads %s=%q", raw, q.SdkAppID, name, v)
				}
			}
		}
	})
}

// FuzzVerifySign checks that VerifySign accepts exactly the signatures of a configured token
// within the skew: whatever it accepts is that token's digest of that RequestTime (in some
// letter case) and the time is inside the window, and a genuine signature in the window is
// never refused. The corpus is in testdata/fuzz/FuzzVerifySign.
func FuzzVerifySign(f *testing.F) {
	f.Add("xxxxyyyy", "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061", "1669872112", int64(1669872112))
	f.Add("xxxxyyyy", "17773BC39A671D7B9AA835458704D2A6DB81360A5940292B587D6D760D484061", "1669872112", int64(1669872200))
	f.Add("t", "", "1", int64(1))
	f.Add("t", "zz", "+1", int64(0))
	f.Add("", strings.Repeat("0", 64), "-9223372036854775808", int64(9223372036))
	const skew = 60 * time.Second
	f.Fuzz(func(t *testing.T, token, sign, requestTime string, now int64) {
		at := time.Unix(now%(1<<40), 0)
		_, err := VerifySign([]string{token}, sign, requestTime, at, skew)
		if err == nil {
			if !strings.EqualFold(sign, Sign(token, requestTime)) {
				t.Fatalf("accepted Sign %q for token %q and RequestTime %q; the digest is %q", sign, token, requestTime, Sign(token, requestTime))
			}
			sec, perr := strconv.ParseInt(requestTime, 10, 64)
			if d := at.Sub(time.Unix(sec, 0)); perr != nil || d > skew || d < -skew {
				t.Fatalf("accepted RequestTime %q at %v, outside the %s skew", requestTime, at, skew)
			}
		}
		genuine := Sign(token, requestTime)
		if _, err := VerifySign([]string{token}, genuine, requestTime, at, skew); err != nil && errors.Is(err, ErrSignMismatch) {
			t.Fatalf("refused the genuine Sign of token %q, RequestTime %q: %v", token, requestTime, err)
		}
	})
}

// FuzzIngressBody runs what the router reads of a body — the command, the nesting bound and
// the envelope check of an answer — on arbitrary bytes: none may panic, an accepted envelope
// is valid JSON, and DeeperThan agrees with a decoder's count of nesting on valid JSON. The
// corpus is in testdata/fuzz/FuzzIngressBody.
func FuzzIngressBody(f *testing.F) {
	for _, s := range []string{
		`{"CallbackCommand":"Live.CallbackBeforeSendGift","GiftWater":{"To_Account":["to1"]}}`,
		`{"ActionStatus":"OK","ErrorCode":0,"ErrorInfo":""}`, `{"ErrorCode":1e3}`, `{"a":"[[[\"]]"}`,
		`[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]`, "{\"CallbackCommand\":\"\xff\"}", `{"ErrorCode":0,"ErrorCode":"x"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		_ = CommandFromBody(body)
		if IsEnvelope(body) && !json.Valid(body) {
			t.Fatalf("IsEnvelope accepted invalid JSON %q", body)
		}
		if !json.Valid(body) {
			return
		}
		depth := jsonDepth(t, body)
		for _, max := range []int{1, 2, 5, 64} {
			if got, want := DeeperThan(body, max), depth > max; got != want {
				t.Fatalf("DeeperThan(%q, %d) = %v, but the decoder counts depth %d", body, max, got, depth)
			}
		}
	})
}

// jsonDepth counts the deepest nesting of valid JSON with encoding/json's tokenizer.
func jsonDepth(t *testing.T, body []byte) int {
	dec := json.NewDecoder(bytes.NewReader(body))
	depth, deepest := 0, 0
	for {
		tok, err := dec.Token()
		if err != nil {
			return deepest
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
