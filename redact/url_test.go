package redact_test

import (
	"testing"

	"github.com/callback-router/callback-router/redact"
)

func TestURL(t *testing.T) {
	tests := []struct{ in, want string }{
		{"http://host:9001/gifts", "http://host:9001/gifts"},
		{"http://user:PASS@host/gifts", "http://…@host/gifts"},
		{"http://user@host/gifts", "http://…@host/gifts"},
		{"http://host/gifts?api_key=SECRET&mode=strict", "http://host/gifts?api_key=…&mode=…"},
		{"http://host/gifts?flag&empty=", "http://host/gifts?flag&empty="},
		{"https://u:PA/SS@host/x?k=SECRET#FRAG", "https://…@host/x?k=…#…"},
		{"http://user:PA SS@host/gifts", "http://…@host/gifts"},      // does not parse
		{"nats://u:PASS@h1:4222", "nats://…@h1:4222"},                // no path
		{"user:PASS@host/gifts", "…@host/gifts"},                     // no scheme
		{"http://host/?next=http://u:PASS@x", "http://host/?next=…"}, // a URL in the query
		{"", ""},
	}
	for _, tt := range tests {
		got := redact.URL(tt.in)
		if got != tt.want {
			t.Errorf("URL(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again := redact.URL(got); again != got {
			t.Errorf("URL(URL(%q)) = %q, want it unchanged %q", tt.in, again, got)
		}
	}
}

func TestText(t *testing.T) {
	tests := []struct{ in, want string }{
		{`upstreams.gifts.url: "http://user:PASS@host/gifts?api_key=S" must not carry credentials`,
			`upstreams.gifts.url: "http://…@host/gifts?api_key=…" must not carry credentials`},
		{"parsing `https://u:PASS@h/x?a=1` failed; also ftp://h/?b=2.",
			"parsing `https://…@h/x?a=…` failed; also ftp://h/?b=…"},
		{"no url here: a=1&b=2", "no url here: a=1&b=2"},
	}
	for _, tt := range tests {
		if got := redact.Text(tt.in); got != tt.want {
			t.Errorf("Text(%q)\n = %q\nwant %q", tt.in, got, tt.want)
		}
	}
}

func TestSign(t *testing.T) {
	tests := []struct{ in, want string }{
		{"SdkAppid=1&Sign=abc123&RequestTime=1700000000", "SdkAppid=1&Sign=…&RequestTime=1700000000"},
		{"sign=abc&SIGN=def", "sign=…&SIGN=…"},
		{"Si%67n=abc&x=1", "Si%67n=…&x=1"},
		{"SdkAppid=1&CallbackCommand=C", "SdkAppid=1&CallbackCommand=C"},
		{"Signature=keep&Sign=", "Signature=keep&Sign="},
		{"", ""},
	}
	for _, tt := range tests {
		if got := redact.Sign(tt.in); got != tt.want {
			t.Errorf("Sign(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
