package logging

import (
	"bytes"
	"errors"
	"testing"

	"github.com/callback-router/callback-router/internal/testutil"
)

func TestNewRejectsUnknownSettings(t *testing.T) {
	tests := []struct {
		name, format, level string
		wantErr             bool
	}{
		{"json info", "json", "info", false},
		{"console debug", "console", "debug", false},
		{"unknown format", "xml", "info", true},
		{"unknown level", "json", "loud", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(&bytes.Buffer{}, tt.format, tt.level)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestLeveledRedactsQueries(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	Leveled{L: l}.Debug("performing request", "method", "POST", "url", "http://up/gifts?Sign=abc123&RequestTime=1")
	Leveled{L: l}.Error("request failed", "error", errors.New(`Post "http://u:PASS@up/gifts?Sign=abc123": refused`))
	testutil.CheckText(t, "the log", buf.String(),
		[]string{`"url":"http://up/gifts?Sign=…&RequestTime=…"`, `"error":"Post \"http://…@up/gifts?Sign=…\": refused"`},
		[]string{"abc123", "PASS"})
}
