package testutil

import (
	"strings"
	"testing"
)

// CheckText marks t failed, without stopping it, for each of want that text lacks and each of
// notWant it holds: what an output, a log or an error must say, and what it must never show
// (a token, a Sign, a URL's credentials). what names the text in the messages.
func CheckText(t testing.TB, what, text string, want, notWant []string) {
	t.Helper()
	for _, s := range want {
		if !strings.Contains(text, s) {
			t.Errorf("%s lacks %q:\n%s", what, s, text)
		}
	}
	for _, s := range notWant {
		if strings.Contains(text, s) {
			t.Errorf("%s shows %q:\n%s", what, s, text)
		}
	}
}
