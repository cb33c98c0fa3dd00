package proxy

import "testing"

// TestOwnQueryKeepsTencentNamesWithoutAllocating: against an instance URL whose own names
// PHP and Rack rewrite, none of Tencent's parameters is taken for one of them, and telling
// so costs no allocation on the request path.
func TestOwnQueryKeepsTencentNamesWithoutAllocating(t *testing.T) {
	q := newOwnQuery("api_key=S&auth[token]=T&client.ip=x&[x]sign=y&Request+Time=z")
	names := []string{"SdkAppid", "CallbackCommand", "contenttype", "ClientIP", "OptPlatform", "Sign", "RequestTime"}
	for _, name := range names {
		if own := q.match(name); own != "" {
			t.Errorf("match(%q) = %q, want no own name", name, own)
		}
	}
	if n := testing.AllocsPerRun(100, func() {
		for _, name := range names {
			q.match(name)
		}
	}); n != 0 {
		t.Errorf("match of Tencent's names: got %v allocations, want 0", n)
	}
}
