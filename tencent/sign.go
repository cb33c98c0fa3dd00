package tencent

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"strconv"
	"time"
)

// Errors returned by VerifySign. They say what was wrong without revealing the token.
var (
	ErrSignMissing    = errors.New("Sign or RequestTime missing")
	ErrSignMalformed  = errors.New("Sign is not 64 hex digits")
	ErrRequestTimeBad = errors.New("RequestTime is not a Unix time in seconds")
	ErrRequestSkewed  = errors.New("RequestTime outside the allowed clock skew")
	ErrSignMismatch   = errors.New("Sign does not match")
)

// Sign returns Tencent's signature of a callback: the lowercase hex SHA-256 of the token
// immediately followed by the decimal RequestTime. It is not an HMAC and does not cover the body.
func Sign(token, requestTime string) string {
	sum := signSum(token, requestTime)
	return hex.EncodeToString(sum[:])
}

func signSum(token, requestTime string) [sha256.Size]byte {
	h := sha256.New()
	h.Write([]byte(token))
	h.Write([]byte(requestTime))
	var sum [sha256.Size]byte
	h.Sum(sum[:0])
	return sum
}

// VerifySign checks sign and requestTime against each of tokens (the Live and Chat planes may
// use different tokens, and a rotation needs the old and the new one) and against now within
// maxSkew, and returns the position in tokens of the token that signed. The digest compare
// runs in constant time, and every token is tried whatever the outcome of the others, so the
// time taken does not tell which token, if any, came close.
func VerifySign(tokens []string, sign, requestTime string, now time.Time, maxSkew time.Duration) (int, error) {
	if sign == "" || requestTime == "" {
		return -1, ErrSignMissing
	}
	var given [sha256.Size]byte
	if len(sign) != hex.EncodedLen(sha256.Size) {
		return -1, ErrSignMalformed
	}
	if _, err := hex.Decode(given[:], []byte(sign)); err != nil {
		return -1, ErrSignMalformed
	}
	sec, err := strconv.ParseInt(requestTime, 10, 64)
	if err != nil {
		return -1, ErrRequestTimeBad
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > maxSkew || skew < -maxSkew {
		return -1, ErrRequestSkewed
	}
	slot := -1
	for i, token := range tokens {
		want := signSum(token, requestTime)
		eq := subtle.ConstantTimeCompare(want[:], given[:])
		// The first matching position, chosen without a branch on the comparison.
		slot = subtle.ConstantTimeSelect(eq&subtle.ConstantTimeEq(int32(slot), -1), i, slot)
	}
	if slot < 0 {
		return -1, ErrSignMismatch
	}
	return slot, nil
}
