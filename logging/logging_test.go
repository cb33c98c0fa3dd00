package logging

import (
	"bytes"
	"errors"
	"net/url"
	"strings"
	"testing"
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
	out := buf.String()
	if strings.Contains(out, "abc123") {
		t.Errorf("log leaks the query: %s", out)
	}
	if !strings.Contains(out, `"url":"http://up/gifts?<redacted>"`) {
		t.Errorf("log lost the URL itself: %s", out)
	}
}

// TestLeveledRedactsQueriesInErrors: go-retryablehttp logs a failed attempt's error as net/http
// wrapped it, quoting the request's URL with Tencent's query.
func TestLeveledRedactsQueriesInErrors(t *testing.T) {
	var buf bytes.Buffer
	l, err := New(&buf, "json", "debug")
	if err != nil {
		t.Fatal(err)
	}
	uerr := &url.Error{Op: "Post", URL: "http://gifts/?SdkAppid=1&Sign=abc123", Err: errors.New("connection refused")}
	Leveled{L: l}.Error("request failed", "error", uerr, "method", "POST")
	out := buf.String()
	if strings.Contains(out, "abc123") {
		t.Errorf("log leaks the query: %s", out)
	}
	if want := `Post \"http://gifts/?<redacted>\": connection refused`; !strings.Contains(out, want) {
		t.Errorf("log %s, want the error as %s", out, want)
	}
}
