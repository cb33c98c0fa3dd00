package e2e

import (
	"path/filepath"
	"testing"

	"github.com/callback-router/callback-router/internal/testutil"
)

// TestBinaryReportsEveryProblem: validate and a start both report all three problems of a
// file in one run, the misspelt key not hiding the others.
func TestBinaryReportsEveryProblem(t *testing.T) {
	cfg := testutil.NewConfig("127.0.0.1:0", "").
		SetYAML("defaults", "{dedline: 1500ms}").
		Upstream("gifts", "http://127.0.0.1:9001/gifts").
		Route(`{commands: ["*"], upstream: giftz}`).
		Route(`{commands: [Live.CallbackBeforeSendGift], upstream: gifts, deadline: 2500ms}`).
		Write(t)
	for _, verb := range []string{"validate", "serve"} {
		t.Run(verb, func(t *testing.T) {
			out, code := run(t, verb, "-config", cfg)
			if code != 1 {
				t.Fatalf("%s: got exit status %d, want 1; output:\n%s", verb, code, out)
			}
			testutil.CheckText(t, verb+"'s output", out, []string{"3 problem(s)", "defaults.dedline: unknown key", "routes[0].upstream: ", "routes[1].deadline: "}, nil)
		})
	}
}

func TestBinaryValidate(t *testing.T) {
	// A gift route whose deadline, 2 s, is not shorter than Tencent's window.
	withDeadlineTooLong := func(url, upstream string) string {
		return testutil.NewConfig("127.0.0.1:0", "").Upstream("gifts", url).
			Route(`{commands: [Live.CallbackBeforeSendGift], upstream: ` + upstream + `, deadline: 2s}`).Write(t)
	}
	bad := withDeadlineTooLong("http://127.0.0.1:9001/gifts", "giftz")
	// A refused URL's credentials are masked in every message of the refusal.
	credentials := withDeadlineTooLong("http://user:PASS@127.0.0.1:9001/gifts?api_key=SECRET", "gifts")
	tests := []struct {
		name     string
		config   string
		wantCode int
		want     []string // in the combined output
		notWant  []string
	}{
		{name: "bad config", config: bad, wantCode: 1, want: []string{"routes[0].upstream", "routes[0].deadline"}},
		{name: "credentials in a URL", config: credentials, wantCode: 1,
			want:    []string{"2 problem(s)", `upstreams.gifts.url: "http://…@127.0.0.1:9001/gifts?api_key=…"`, "routes[0].deadline"},
			notWant: []string{"PASS", "SECRET", "user:"}},
		{name: "missing config", config: filepath.Join(t.TempDir(), "absent.yaml"), wantCode: 1, want: []string{"absent.yaml"}},
		{name: "config.yaml", config: "config.yaml", wantCode: 0, want: []string{"ok"}},
		{name: "examples/sidecar.yaml", config: "examples/sidecar.yaml", wantCode: 0, want: []string{"ok"}},
		{name: "examples/edge.yaml", config: "examples/edge.yaml", wantCode: 0, want: []string{"ok"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, code := run(t, "validate", "-config", tt.config)
			if got, want := code, tt.wantCode; got != want {
				t.Errorf("exit code: got %d, want %d; output:\n%s", got, want, out)
			}
			testutil.CheckText(t, "validate's output", out, tt.want, tt.notWant)
		})
	}
}
