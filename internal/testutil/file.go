package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// WriteFile writes content to a file called name in a directory of the test's own, removed
// when the test ends, and returns its path. The file is readable by its owner only, as a
// config holding secrets should be.
func WriteFile(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	Rewrite(t, path, content)
	return path
}

// Rewrite replaces the file at path with content, in place.
func Rewrite(t testing.TB, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}
