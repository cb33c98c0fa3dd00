package tencent

import (
	"errors"
	"strings"
	"testing"
	"time"
)

// Tencent's documented test vector (PROTOCOL.md §2).
const (
	vectorToken = "xxxxyyyy"
	vectorTime  = "1669872112"
	vectorSign  = "17773bc39a671d7b9aa835458704d2a6db81360a5940292b587d6d760d484061"
)

func TestSignTestVector(t *testing.T) {
	if got, want := Sign(vectorToken, vectorTime), vectorSign; got != want {
		t.Errorf("Sign(%q, %q) = %s, want %s", vectorToken, vectorTime, got, want)
	}
}

func TestVerifySign(t *testing.T) {
	vectorNow := time.Unix(1669872112, 0)
	const skew = 60 * time.Second
	tests := []struct {
		name        string
		tokens      []string
		sign        string
		requestTime string
		now         time.Time
		want        error
		wantSlot    int // the position of the token that signed, when want is nil
	}{
		{name: "valid", tokens: []string{vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow},
		{name: "valid with the second of two tokens", tokens: []string{"chat-plane-token", vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow, wantSlot: 1},
		{name: "valid with the third of three tokens", tokens: []string{"a", "b", vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow, wantSlot: 2},
		{name: "valid with the first of two tokens", tokens: []string{vectorToken, "chat-plane-token"}, sign: vectorSign, requestTime: vectorTime, now: vectorNow},
		{name: "missing Sign", tokens: []string{vectorToken}, sign: "", requestTime: vectorTime, now: vectorNow, want: ErrSignMissing},
		{name: "missing RequestTime", tokens: []string{vectorToken}, sign: vectorSign, requestTime: "", now: vectorNow, want: ErrSignMissing},
		{name: "both missing", tokens: []string{vectorToken}, now: vectorNow, want: ErrSignMissing},
		{name: "too short", tokens: []string{vectorToken}, sign: vectorSign[:63], requestTime: vectorTime, now: vectorNow, want: ErrSignMalformed},
		{name: "too long", tokens: []string{vectorToken}, sign: vectorSign + "0", requestTime: vectorTime, now: vectorNow, want: ErrSignMalformed},
		{name: "non-hex", tokens: []string{vectorToken}, sign: "zz" + vectorSign[2:], requestTime: vectorTime, now: vectorNow, want: ErrSignMalformed},
		// Tencent sends lowercase hex, but hex.Decode accepts uppercase digits too, and the
		// digests are compared as bytes: an uppercased valid Sign is accepted. That is
		// harmless (it proves knowledge of the same digest) and is what the code does.
		{name: "uppercase hex of a valid sign", tokens: []string{vectorToken}, sign: strings.ToUpper(vectorSign), requestTime: vectorTime, now: vectorNow},
		{name: "RequestTime outside skew in the past", tokens: []string{vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow.Add(skew + time.Second), want: ErrRequestSkewed},
		{name: "RequestTime outside skew in the future", tokens: []string{vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow.Add(-skew - time.Second), want: ErrRequestSkewed},
		{name: "RequestTime just inside skew in the past", tokens: []string{vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow.Add(skew)},
		{name: "RequestTime just inside skew in the future", tokens: []string{vectorToken}, sign: vectorSign, requestTime: vectorTime, now: vectorNow.Add(-skew)},
		{name: "non-numeric RequestTime", tokens: []string{vectorToken}, sign: vectorSign, requestTime: "yesterday", now: vectorNow, want: ErrRequestTimeBad},
		{name: "RequestTime in milliseconds", tokens: []string{vectorToken}, sign: Sign(vectorToken, "1669872112000"), requestTime: "1669872112000", now: vectorNow, want: ErrRequestSkewed},
		{name: "wrong token", tokens: []string{"another-token"}, sign: vectorSign, requestTime: vectorTime, now: vectorNow, want: ErrSignMismatch},
		{name: "token in another letter case", tokens: []string{strings.ToUpper(vectorToken)}, sign: vectorSign, requestTime: vectorTime, now: vectorNow, want: ErrSignMismatch},
		{name: "no token configured", tokens: nil, sign: vectorSign, requestTime: vectorTime, now: vectorNow, want: ErrSignMismatch},
		{name: "Sign of another RequestTime", tokens: []string{vectorToken}, sign: Sign(vectorToken, "1669872113"), requestTime: vectorTime, now: vectorNow, want: ErrSignMismatch},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			slot, err := VerifySign(tt.tokens, tt.sign, tt.requestTime, tt.now, skew)
			if tt.want == nil {
				if err != nil {
					t.Errorf("VerifySign() = %v, want nil", err)
				}
				if got, want := slot, tt.wantSlot; got != want {
					t.Errorf("VerifySign() slot = %d, want %d", got, want)
				}
				return
			}
			if slot != -1 {
				t.Errorf("VerifySign() slot = %d with error %v, want -1", slot, err)
			}
			if got, want := err, tt.want; !errors.Is(got, want) {
				t.Errorf("VerifySign() = %v, want %v", got, want)
			}
		})
	}
}

func TestVerifySignErrorsDoNotRevealToken(t *testing.T) {
	const token = "very-secret-token"
	for _, sign := range []string{"", "short", strings.Repeat("0", 64)} {
		_, err := VerifySign([]string{token}, sign, "1669872112", time.Unix(1669872112, 0), time.Minute)
		if err == nil {
			t.Fatalf("VerifySign(%q) = nil, want an error", sign)
		}
		if strings.Contains(err.Error(), token) {
			t.Errorf("VerifySign(%q) error %q reveals the token", sign, err)
		}
	}
}
