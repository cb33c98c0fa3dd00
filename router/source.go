package router

import (
	"net/netip"
	"strings"

	"github.com/callback-router/callback-router/config"
)

// SourcePolicy decides which peers may post callbacks: tencent.allowed_cidrs (empty: any),
// with the source taken from X-Forwarded-For only when the peer is one of
// server.trusted_proxies. A header from any other peer is whatever the peer chose to write,
// so believing it would let anyone claim to be Tencent's egress. It is compiled once per
// table and only read afterwards.
type SourcePolicy struct {
	allowed []netip.Prefix
	trusted []netip.Prefix
}

// compileSources reads the policy of a validated config; entries that do not parse were
// refused by validation, so they are skipped here.
func compileSources(cfg *config.Config) SourcePolicy {
	return SourcePolicy{
		allowed: prefixes(cfg.Tencent.AllowedCIDRs),
		trusted: prefixes(cfg.Server.TrustedProxies),
	}
}

func prefixes(list []string) []netip.Prefix {
	var out []netip.Prefix
	for _, s := range list {
		if p, err := config.ParsePrefix(s); err == nil {
			out = append(out, p)
		}
	}
	return out
}

// Allows reports whether a callback from the peer remoteIP, which sent the X-Forwarded-For
// header xff, comes from an allowed source.
func (p *SourcePolicy) Allows(remoteIP, xff string) bool {
	if len(p.allowed) == 0 {
		return true
	}
	src, ok := p.source(remoteIP, xff)
	return ok && contains(p.allowed, src)
}

// PeerMayConnect reports whether a connection from remoteIP can carry an allowed callback
// at all: with an allow-list, only a peer in it or a trusted proxy (whose requests name
// their source) can. The listener closes the others at once, so outsiders cannot hold the
// connections server.max_conns allows.
func (p *SourcePolicy) PeerMayConnect(remoteIP string) bool {
	if len(p.allowed) == 0 {
		return true
	}
	peer, err := netip.ParseAddr(remoteIP)
	if err != nil {
		return false
	}
	peer = peer.Unmap()
	return contains(p.allowed, peer) || contains(p.trusted, peer)
}

// source returns the address a callback came from. It is the peer, unless the peer is a
// trusted proxy: then it is the right-most X-Forwarded-For entry that is not itself a trusted
// proxy (entries to its left were written by whoever the first untrusted hop was, and prove
// nothing). A trusted peer that names no untrusted address is the source itself. ok is false
// when an entry that would be the source does not parse.
func (p *SourcePolicy) source(remoteIP, xff string) (netip.Addr, bool) {
	peer, err := netip.ParseAddr(remoteIP)
	if err != nil {
		return netip.Addr{}, false
	}
	peer = peer.Unmap()
	if !contains(p.trusted, peer) {
		return peer, true
	}
	for xff != "" {
		var hop string
		if i := strings.LastIndexByte(xff, ','); i >= 0 {
			xff, hop = xff[:i], xff[i+1:]
		} else {
			xff, hop = "", xff
		}
		a, err := netip.ParseAddr(strings.TrimSpace(hop))
		if err != nil {
			return netip.Addr{}, false
		}
		if a = a.Unmap(); !contains(p.trusted, a) {
			return a, true
		}
	}
	return peer, true
}

func contains(list []netip.Prefix, a netip.Addr) bool {
	for _, p := range list {
		if p.Contains(a) {
			return true
		}
	}
	return false
}
