package router

import (
	"strconv"
	"testing"

	"github.com/callback-router/callback-router/config"
)

func TestSourcePolicy(t *testing.T) {
	cfg := &config.Config{
		Server:  config.Server{TrustedProxies: []string{"10.0.0.0/8", "127.0.0.1"}},
		Tencent: config.Tencent{AllowedCIDRs: []string{"203.0.113.0/24", "2001:db8::/32"}},
	}
	p := compileSources(cfg)
	tests := []struct {
		name, remote, xff string
		want              bool
	}{
		{"allowed peer", "203.0.113.7", "", true},
		{"allowed peer, IPv4-mapped", "::ffff:203.0.113.7", "", true},
		{"allowed IPv6 peer", "2001:db8::1", "", true},
		{"other peer", "198.51.100.1", "", false},
		{"other peer claiming an allowed address", "198.51.100.1", "203.0.113.7", false},
		{"trusted proxy reporting an allowed client", "10.1.2.3", "203.0.113.7", true},
		{"trusted proxy reporting another client", "10.1.2.3", "198.51.100.1", false},
		{"spoofed entry left of the real client", "10.1.2.3", "203.0.113.7, 198.51.100.1", false},
		{"chain of trusted proxies", "127.0.0.1", "203.0.113.7, 10.9.9.9", true},
		{"trusted proxy with a garbage entry", "10.1.2.3", "not-an-ip", false},
		{"trusted proxy without a header is the source", "10.1.2.3", "", false},
		{"peer not an address", "garbage", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allows(tt.remote, tt.xff); got != tt.want {
				t.Errorf("Allows(%q, %q) = %v, want %v", tt.remote, tt.xff, got, tt.want)
			}
		})
	}
	if open := compileSources(&config.Config{}); !open.Allows("198.51.100.1", "") || !open.PeerMayConnect("198.51.100.1") {
		t.Error("with no allowed_cidrs, a source was refused")
	}
	for peer, want := range map[string]bool{"203.0.113.7": true, "10.1.2.3": true, "::ffff:127.0.0.1": true, "198.51.100.1": false, "garbage": false} {
		if got := p.PeerMayConnect(peer); got != want {
			t.Errorf("PeerMayConnect(%q) = %v, want %v", peer, got, want)
		}
	}
}

func BenchmarkSourceCheck(b *testing.B) {
	cidrs := make([]string, 0, 64)
	for i := range 64 {
		cidrs = append(cidrs, "203.0."+strconv.Itoa(i)+".0/24") // a list the size of Tencent's
	}
	p := compileSources(&config.Config{Tencent: config.Tencent{AllowedCIDRs: cidrs}})
	for b.Loop() {
		p.Allows("198.51.100.1", "")
	}
}
