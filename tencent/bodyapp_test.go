package tencent_test

import (
	"errors"
	"testing"

	"github.com/callback-router/callback-router/tencent"
)

func TestCheckBodyApp(t *testing.T) {
	tests := []struct {
		name, body string
		wantOther  bool
	}{
		{name: "no SdkAppid", body: `{"CallbackCommand":"X","Info":{"SdkAppid":"9"}}`},
		{name: "the same app", body: `{"SdkAppid":"1400000001"}`},
		{name: "the same app as a number", body: `{"SDKAPPID": 1400000001 }`},
		{name: "another app", body: `{"SdkAppid":"1400000002"}`, wantOther: true},
		{name: "another app, escaped name", body: `{"\u0053dkAppid":"1400000002"}`, wantOther: true},
		{name: "the same digits with a space", body: `{"SdkAppid":"1400000001 "}`, wantOther: true},
		{name: "null", body: `{"SdkAppid":null}`, wantOther: true},
		{name: "the same app, then another", body: `{"SdkAppid":"1400000001","sdkappid":"1400000002"}`, wantOther: true},
		{name: "not an object", body: `["SdkAppid","1400000002"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tencent.CheckBodyApp([]byte(tt.body), "1400000001")
			if got := errors.Is(err, tencent.ErrBodyNamesOtherApp); got != tt.wantOther {
				t.Errorf("CheckBodyApp(%s) = %v, want other app: %v", tt.body, err, tt.wantOther)
			}
		})
	}
}
