package logging

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/rs/zerolog"
	"go.uber.org/zap"
)

func TestZapWritesZerologLines(t *testing.T) {
	var buf bytes.Buffer
	l := Zap(zerolog.New(&buf).Level(zerolog.InfoLevel)).Named("tls").With(zap.String("issuer", "acme"))
	l.Debug("dropped below the level", zap.String("x", "y"))
	l.Info("certificate obtained", zap.Strings("identifiers", []string{"callbacks.example.com"}))
	l.Error("renewal failed", zap.Error(errors.New("boom")),
		zap.String("url", "https://ca.example/acme?Sign=0123456789abcdef0123456789abcdef"))

	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("got %d lines, want 2 (debug dropped):\n%s", len(lines), buf.String())
	}
	var first, second map[string]any
	if err := json.Unmarshal([]byte(lines[0]), &first); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal([]byte(lines[1]), &second); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"level", first["level"], "info"},
		{"message", first["message"], "certificate obtained"},
		{"logger", first["logger"], "tls"},
		{"field from With", first["issuer"], "acme"},
		{"identifiers", first["identifiers"], []any{"callbacks.example.com"}},
		{"error level", second["level"], "error"},
		{"error", second["error"], "boom"},
	} {
		if !equalJSON(c.got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, c.got, c.want)
		}
	}
	if strings.Contains(buf.String(), "0123456789abcdef") {
		t.Errorf("a Sign value reached the log: %s", lines[1])
	}
}

func equalJSON(a, b any) bool {
	x, _ := json.Marshal(a)
	y, _ := json.Marshal(b)
	return bytes.Equal(x, y)
}
