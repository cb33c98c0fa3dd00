package config

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/callback-router/callback-router/tencent"
)

// TRTC's event callbacks (room, media, cloud recording) are routed by the names
// TRTC.<EventGroupId>.<EventType>; these checks keep the routes that serve them within what
// TRTC expects.

// trtcKeyPattern is what TRTC's console accepts as a callback key: 1 to 32 letters and
// digits. Anything else was not copied from it (a stray space, a quote, another secret).
var trtcKeyPattern = regexp.MustCompile(`^[A-Za-z0-9]{1,32}$`)

// windowFor returns the window a policy's deadline must be shorter than, with its key:
// tencent.trtc_window for a route that serves only TRTC events, tencent.window for any
// other route and for the defaults (commands nil), which every route may inherit.
func (c *Config) windowFor(commands []string) (string, time.Duration) {
	if (Route{Commands: commands}).TRTCOnly() {
		return "tencent.trtc_window", c.Tencent.TRTCWindow
	}
	return "tencent.window", c.Tencent.Window
}

// validateTRTC checks tencent.trtc_window, server.trtc_path, the apps' TRTC keys and the
// routes that serve only TRTC events.
func (c *Config) validateTRTC(p *problems) {
	if c.Tencent.TRTCWindow <= 0 {
		p.add("tencent.trtc_window", "must be positive (TRTC waits 5s for the answer to an event)")
	}
	switch tp := c.Server.TRTCPath; {
	case tp == "":
	case !strings.HasPrefix(tp, "/"):
		p.add("server.trtc_path", "%q must start with /", tp)
	case tp == c.Server.Path:
		p.add("server.trtc_path", "%q is server.path, where TRTC events are recognised anyway; leave trtc_path empty or give it a path of its own", tp)
	}
	if k := c.Tencent.TRTCKey; k != "" && !trtcKeyPattern.MatchString(k) {
		p.add("tencent.trtc_key", "is not 1 to 32 letters and digits, as TRTC's console keys are (a stray space or quote?)")
	}
	for i, a := range c.Tencent.Apps {
		key := fmt.Sprintf("tencent.apps[%d]", i)
		if a.TRTCKey != "" && !trtcKeyPattern.MatchString(a.TRTCKey) {
			p.add(key+".trtc_key", "is not 1 to 32 letters and digits, as TRTC's console keys are (a stray space or quote?)")
		}
		if a.FileTRTCKey != "" && !trtcKeyPattern.MatchString(a.FileTRTCKey) {
			p.add(key+".trtc_key_file", "%s does not hold 1 to 32 letters and digits, as TRTC's console keys are", a.TRTCKeyFile)
		}
	}
	for i, r := range c.Routes {
		if !r.TRTCOnly() {
			continue
		}
		// defaults.deadline is checked against tencent.window; a TRTC-only route inheriting it
		// must also answer within trtc_window, which may be the shorter.
		if d, w := r.Policy.Inherit(c.Defaults).Deadline, c.Tencent.TRTCWindow; r.Deadline == nil && d != nil && w > 0 && *d >= w {
			p.add(fmt.Sprintf("routes[%d].deadline", i), "inherits defaults.deadline %s, not shorter than tencent.trtc_window (%s), which bounds this route serving only TRTC events: set a shorter deadline here", *d, w)
		}
		if r.Fallback == nil || r.Fallback.Action != "deny" {
			continue
		}
		p.add(fmt.Sprintf("routes[%d].fallback.action", i),
			"deny means nothing to TRTC, whose events are answered %s whatever the verdict; this route serves only TRTC events: use allow", tencent.TRTCAnswer)
	}
}
