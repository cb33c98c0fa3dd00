package shadow

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strconv"
	"strings"

	"github.com/tidwall/gjson"
)

// Result is how a mirrored callback compared; the values label
// callback_router_shadow_total.
type Result string

// Results, in the order they are decided.
const (
	// Skipped: the route had max_in_flight mirrors running; nothing was sent.
	Skipped Result = "skipped"
	// ShadowFailed: the candidate gave no usable envelope in time (error, timeout, open
	// breaker, a status other than 200, a body that is not an envelope).
	ShadowFailed Result = "shadow_failed"
	// PrimaryFailed: Tencent got the route's fallback and the candidate answered: would the
	// candidate have saved the callback?
	PrimaryFailed Result = "primary_failed"
	// Verdict: different ErrorCode (allow against deny, or two deny codes).
	Verdict Result = "verdict"
	// Rewrite: the same ErrorCode, but the message would not come out the same.
	Rewrite Result = "rewrite"
	// Agree: the same ErrorCode and the same rewrite, if any.
	Agree Result = "agree"
)

// Results lists every Result, for metrics that export each one from the start.
var Results = []Result{Agree, Verdict, Rewrite, ShadowFailed, PrimaryFailed, Skipped}

// Disagrees reports whether r is a difference an operator looks at before switching to the
// candidate: verdict, rewrite or primary_failed.
func (r Result) Disagrees() bool { return r == Verdict || r == Rewrite || r == PrimaryFailed }

// Answer is one side's answer to a mirrored callback.
type Answer struct {
	// Body is the envelope; nil when there is none usable (the candidate failed).
	Body []byte
	// Fallback names why the router answered Tencent itself on the route's upstream's behalf
	// (timeout, breaker_open, …): the primary side only, "" when the upstream answered.
	Fallback string
	// Failure says why a candidate gave no usable envelope: "timeout", "breaker_open",
	// "status 500", "not an envelope"…
	Failure string
}

// rewriteFields are the answer fields that change what Tencent does with the callback
// besides its verdict: a message body replaced (Group, C2C and OfficialAccount
// CallbackBeforeSendMsg), its custom data, members refused from an invitation
// (Group.CallbackBeforeInviteJoinGroup).
var rewriteFields = []string{"MsgBody", "CloudCustomData", "RefusedMembers_Account"}

// Comparison is a mirrored callback's outcome with, for the status page, what each side
// said in a few words (never a body).
type Comparison struct {
	Result Result
	// Primary is what Tencent got ("allow", "deny 10016", "allow, rewrites MsgBody",
	// "fallback allow (timeout)"); Candidate is what the candidate answered.
	Primary, Candidate string
}

// Compare compares the answer Tencent got with the candidate's. callback is the callback's
// body: a field an answer leaves out keeps the callback's value, so an answer that echoes
// the message unchanged and one that leaves it out agree. Answers are compared as JSON:
// key order, spacing and number spelling do not count.
func Compare(callback []byte, primary, candidate Answer) Comparison {
	c := Comparison{Primary: Describe(primary), Candidate: Describe(candidate)}
	switch {
	case candidate.Body == nil:
		c.Result = ShadowFailed
	case primary.Fallback != "":
		c.Result = PrimaryFailed
	case codeOf(primary.Body) != codeOf(candidate.Body):
		c.Result = Verdict
	case !sameRewrite(callback, primary.Body, candidate.Body):
		c.Result = Rewrite
	default:
		c.Result = Agree
	}
	return c
}

// Describe says in a few words what an answer was: its verdict and what it rewrites, or
// why there is none. It never quotes the body.
func Describe(a Answer) string {
	if a.Body == nil {
		if a.Failure == "" {
			return "no answer"
		}
		return "no answer (" + a.Failure + ")"
	}
	var b strings.Builder
	if a.Fallback != "" {
		b.WriteString("fallback ")
	}
	switch c := codeOf(a.Body); {
	case !c.ok:
		b.WriteString("no ErrorCode")
	case c.n == 0:
		b.WriteString("allow")
	default:
		b.WriteString("deny ")
		b.WriteString(strconv.FormatInt(c.n, 10))
	}
	if a.Fallback != "" {
		b.WriteString(" (" + a.Fallback + ")")
	}
	var fields []string
	for _, f := range rewriteFields {
		if gjson.GetBytes(a.Body, f).Exists() {
			fields = append(fields, f)
		}
	}
	if len(fields) > 0 {
		b.WriteString(", sets " + strings.Join(fields, " and "))
	}
	return b.String()
}

// code is an envelope's ErrorCode and whether it has an integer one.
type code struct {
	n  int64
	ok bool
}

func codeOf(body []byte) code {
	r := gjson.GetBytes(body, "ErrorCode")
	if r.Type != gjson.Number {
		return code{}
	}
	n, err := strconv.ParseInt(r.Raw, 10, 64)
	return code{n, err == nil}
}

// sameRewrite reports whether both answers leave the callback the same: for every rewrite
// field, the value each answer sets, or the callback's own where it sets none, is equal as
// JSON. Answers that set no rewrite field are not parsed at all.
func sameRewrite(callback, a, b []byte) bool {
	for _, f := range rewriteFields {
		va, vb := gjson.GetBytes(a, f), gjson.GetBytes(b, f)
		if !va.Exists() && !vb.Exists() {
			continue
		}
		own := gjson.GetBytes(callback, f)
		if !va.Exists() {
			va = own
		}
		if !vb.Exists() {
			vb = own
		}
		if !sameJSON(va, vb) {
			return false
		}
	}
	return true
}

// sameJSON compares two JSON values by meaning. A missing value equals only another
// missing value.
func sameJSON(a, b gjson.Result) bool {
	if !a.Exists() || !b.Exists() {
		return a.Exists() == b.Exists()
	}
	va, errA := decode(a.Raw)
	vb, errB := decode(b.Raw)
	if errA != nil || errB != nil {
		return a.Raw == b.Raw
	}
	return reflect.DeepEqual(va, vb)
}

// decode parses a JSON value, keeping numbers exact: Tencent's account ids exceed 2^53,
// where float64 would make two different ids equal.
func decode(raw string) (any, error) {
	d := json.NewDecoder(bytes.NewReader([]byte(raw)))
	d.UseNumber()
	var v any
	if err := d.Decode(&v); err != nil {
		return nil, err
	}
	return normalize(v), nil
}

// number is a JSON number spelled one way, kept apart from strings: "1" is not 1.
type number string

// normalize spells every number one way: 1, 1.0 and 1e0 are the same number.
func normalize(v any) any {
	switch v := v.(type) {
	case map[string]any:
		for k, x := range v {
			v[k] = normalize(x)
		}
	case []any:
		for i, x := range v {
			v[i] = normalize(x)
		}
	case json.Number:
		if n, err := strconv.ParseInt(v.String(), 10, 64); err == nil {
			return number(strconv.FormatInt(n, 10))
		}
		if f, err := strconv.ParseFloat(v.String(), 64); err == nil {
			if f == float64(int64(f)) && f < 1<<53 && f > -(1<<53) {
				return number(strconv.FormatInt(int64(f), 10))
			}
			return number(strconv.FormatFloat(f, 'g', -1, 64))
		}
		return number(v.String())
	}
	return v
}
