// Package realpackets finds the real Tencent callback bodies the team keeps beside the
// repository (shared/realpackets, one file per packet), for tests that replay traffic
// nobody on this team wrote. The packets are other people's material: tests read them
// where they lie and never copy them into the repository.
package realpackets

import (
	"os"
	"path/filepath"
	"testing"
)

// EnvDir names the environment variable that points at the packets' folder when it is not
// shared/realpackets beside the repository.
const EnvDir = "CALLBACK_ROUTER_REALPACKETS"

// Dir returns the packets' folder, looked up from the working directory upwards; the test
// is skipped, saying so, when there is none.
func Dir(t testing.TB) string {
	t.Helper()
	if d := os.Getenv(EnvDir); d != "" {
		return d
	}
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		d := filepath.Join(dir, "shared", "realpackets")
		if st, err := os.Stat(d); err == nil && st.IsDir() {
			return d
		}
		if filepath.Dir(dir) == dir {
			t.Skipf("no shared/realpackets above %s (set %s)", wd, EnvDir)
			return ""
		}
	}
}

// Load returns the body of one packet, by file name.
func Load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(Dir(t), name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}
