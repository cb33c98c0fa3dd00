package tencent

import (
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
