package router

import (
	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/tencent"
)

// Verdict is the answer the router gives Tencent on an upstream's behalf.
type Verdict struct {
	Allow     bool
	ErrorCode int64
	ErrorInfo string
	// Envelope is the body sent to Tencent, built once at compile time.
	Envelope []byte
}

// Action returns "allow" or "deny".
func (v Verdict) Action() string {
	if v.Allow {
		return "allow"
	}
	return "deny"
}

func compileVerdict(f config.Fallback) Verdict {
	if f.Action != "deny" {
		return Verdict{Allow: true, ErrorInfo: f.ErrorInfo, Envelope: tencent.Envelope(0, f.ErrorInfo)}
	}
	code := int64(tencent.DenyCodeDefault)
	if f.ErrorCode != nil {
		code = *f.ErrorCode
	}
	return Verdict{ErrorCode: code, ErrorInfo: f.ErrorInfo, Envelope: tencent.Envelope(code, f.ErrorInfo)}
}
