package tencent

import (
	"math/rand/v2"
	"strings"
	"testing"
)

func TestDeeperThan(t *testing.T) {
	tests := []struct {
		name string
		body string
		max  int
		want bool
	}{
		{"flat object", `{"a":1}`, 1, false},
		{"gift sample", `{"GiftWater":{"To_Account":["to1"]}}`, 3, false},
		{"one too deep", `{"a":{"b":[1]}}`, 2, true},
		{"brackets in strings do not count", `{"a":"[[[[{{{{"}`, 1, false},
		{"escaped quote keeps the string open", `{"a":"\"[[["}`, 1, false},
		{"64 deep passes 64", strings.Repeat("[", 64) + strings.Repeat("]", 64), 64, false},
		{"65 deep fails 64", strings.Repeat("[", 65) + strings.Repeat("]", 65), 64, true},
		{"unclosed megabyte", strings.Repeat("[", 1<<20), 64, true},
		{"not JSON", `<html>`, 1, false},
		{"closers first buy no levels", strings.Repeat("]", 10) + strings.Repeat("[", 65), 64, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := DeeperThan([]byte(tt.body), tt.max); got != tt.want {
				t.Errorf("DeeperThan(%.40q, %d) = %v, want %v", tt.body, tt.max, got, tt.want)
			}
		})
	}
}

func TestIsEnvelopeRefusesDeepAnswers(t *testing.T) {
	deep := `{"ErrorCode":0,"X":` + strings.Repeat("[", MaxEnvelopeDepth) + strings.Repeat("]", MaxEnvelopeDepth) + `}`
	if IsEnvelope([]byte(deep)) {
		t.Errorf("IsEnvelope accepted an answer nested %d deep", MaxEnvelopeDepth+1)
	}
	if !IsEnvelope([]byte(`{"ErrorCode":0,"MsgBody":[{"MsgContent":{"Text":"x"}}]}`)) {
		t.Error("IsEnvelope refused a MsgBody rewrite")
	}
}

// TestDeeperThanAgreesWithAStateMachine compares DeeperThan with the byte-at-a-time state
// machine it replaced, on every short text over the bytes that matter to it (brackets,
// quotes, backslashes) and random longer ones.
func TestDeeperThanAgreesWithAStateMachine(t *testing.T) {
	alphabet := []byte(`{}[]"\a`)
	var texts [][]byte
	var grow func(prefix []byte)
	grow = func(prefix []byte) {
		texts = append(texts, prefix)
		if len(prefix) == 6 {
			return
		}
		for _, c := range alphabet {
			grow(append(prefix[:len(prefix):len(prefix)], c))
		}
	}
	grow(nil)
	rnd := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		text := make([]byte, rnd.IntN(60))
		for i := range text {
			text[i] = alphabet[rnd.IntN(len(alphabet))]
		}
		texts = append(texts, text)
	}
	for _, text := range texts {
		for max := range 5 {
			if got, want := DeeperThan(text, max), deeperThanStateMachine(text, max); got != want {
				t.Fatalf("DeeperThan(%q, %d) = %v, the state machine says %v", text, max, got, want)
			}
		}
	}
}

// deeperThanStateMachine is DeeperThan as it was first written: one state per byte.
func deeperThanStateMachine(body []byte, max int) bool {
	depth, inString, escaped := 0, false, false
	for _, c := range body {
		switch {
		case inString:
			switch {
			case escaped:
				escaped = false
			case c == '\\':
				escaped = true
			case c == '"':
				inString = false
			}
		case c == '"':
			inString = true
		case c == '{' || c == '[':
			depth++
			if depth > max {
				return true
			}
		case (c == '}' || c == ']') && depth > 0:
			depth--
		}
	}
	return false
}
