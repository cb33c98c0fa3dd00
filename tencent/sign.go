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
// use different tokens) and against now within maxSkew. The digest compare runs in constant
// time, and every token is tried whatever the outcome of the others, so the time taken does
// not tell which token, if any, came close.
func VerifySign(tokens []string, sign, requestTime string, now time.Time, maxSkew time.Duration) error {
	if sign == "" || requestTime == "" {
		return ErrSignMissing
	}
	var given [sha256.Size]byte
	if len(sign) != hex.EncodedLen(sha256.Size) {
		return ErrSignMalformed
	}
	if _, err := hex.Decode(given[:], []byte(sign)); err != nil {
		return ErrSignMalformed
	}
	sec, err := strconv.ParseInt(requestTime, 10, 64)
	if err != nil {
		return ErrRequestTimeBad
	}
	if skew := now.Sub(time.Unix(sec, 0)); skew > maxSkew || skew < -maxSkew {
		return ErrRequestSkewed
	}
	match := 0
	for _, token := range tokens {
		want := signSum(token, requestTime)
		match |= subtle.ConstantTimeCompare(want[:], given[:])
	}
	if match != 1 {
		return ErrSignMismatch
	}
	return nil
}
