package config

import (
	"fmt"
	"regexp"
	"slices"
	"strconv"
)

// App is one Tencent app (one SdkAppid) the router serves, with the secrets that sign its
// callbacks. A callback is verified with its own app's secrets only.
type App struct {
	// SdkAppID is the app's SdkAppid, as Tencent sends it in the query or the SdkAppId header.
	SdkAppID uint64 `mapstructure:"sdk_app_id"`
	// Name labels the app in logs, metrics, /routes and the status page, and routes[].apps
	// refers to it. Default: the decimal SdkAppid.
	Name string `mapstructure:"name"`
	// Tokens are the Chat and Live consoles' callback tokens; several while one is rotated.
	Tokens []string `mapstructure:"tokens"`
	// TokensFile holds further tokens, one a line (blank lines and # comments ignored): a
	// Kubernetes Secret mount. It is read at start and again on every reload.
	TokensFile string `mapstructure:"tokens_file"`
	// TRTCKey is the TRTC console's callback key, which signs room, media and recording
	// events; TRTCKeyFile holds it instead (read at start and on every reload).
	TRTCKey     string `mapstructure:"trtc_key"`
	TRTCKeyFile string `mapstructure:"trtc_key_file"`

	// FileTokens are the tokens TokensFile held when the config was loaded.
	FileTokens []string `mapstructure:"-"`
	// FileTRTCKey is what TRTCKeyFile held when the config was loaded.
	FileTRTCKey string `mapstructure:"-"`
}

// AllTokens returns the app's callback tokens in order: tokens, then those of tokens_file.
// A token's position in this list labels callback_router_sign_verified_total.
func (a App) AllTokens() []string {
	out := make([]string, 0, len(a.Tokens)+len(a.FileTokens))
	return append(append(out, a.Tokens...), a.FileTokens...)
}

// Key returns the app's TRTC callback key: trtc_key, else what trtc_key_file holds.
func (a App) Key() string {
	if a.TRTCKey != "" {
		return a.TRTCKey
	}
	return a.FileTRTCKey
}

// AnyAppName names the app of a single-app config without sdk_app_ids, which serves every
// SdkAppid: the SdkAppid itself cannot be a label, as anyone may send any value.
const AnyAppName = "any"

// NoAppName is the app label of a callback refused before its app was known. No app may
// take it as its name.
const NoAppName = "none"

// MaxTokenLen is the longest callback token Tencent's consoles accept.
const MaxTokenLen = 128

// MaxTokensPerApp bounds an app's tokens: a callback's Sign is computed with each of them
// (in constant time, so every one every time), and a rotation needs two or three. A tokens
// file of thousands of short lines would make every unsigned request cost milliseconds.
const MaxTokensPerApp = 16

// ServedApps returns the apps the router serves. The single-app form (tencent.sdk_app_ids with
// auth_token, auth_tokens and trtc_key) is compiled into the same shape: one app per listed
// SdkAppid, named by its decimal value, all sharing the tokens and the TRTC key; with no
// SdkAppid listed, one app named "any" (SdkAppID 0) that serves every SdkAppid.
func (t Tencent) ServedApps() []App {
	if len(t.Apps) > 0 {
		return t.Apps
	}
	tokens := t.Tokens()
	if len(t.SdkAppIDs) == 0 {
		return []App{{Name: AnyAppName, Tokens: tokens, TRTCKey: t.TRTCKey}}
	}
	apps := make([]App, 0, len(t.SdkAppIDs))
	for _, id := range t.SdkAppIDs {
		apps = append(apps, App{SdkAppID: id, Name: strconv.FormatUint(id, 10), Tokens: tokens, TRTCKey: t.TRTCKey})
	}
	return apps
}

// appNamePattern keeps app names safe as metric labels, log values, HTML and URL parts.
var appNamePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// applyAppDefaults names the apps that have no name after their SdkAppid.
func (c *Config) applyAppDefaults() {
	for i, a := range c.Tencent.Apps {
		if a.Name == "" && a.SdkAppID != 0 {
			c.Tencent.Apps[i].Name = strconv.FormatUint(a.SdkAppID, 10)
		}
	}
}

// validateApps checks tencent.apps, and that it is not mixed with the single-app form. No
// message ever quotes a token.
func (c *Config) validateApps(p *problems) {
	t := c.Tencent
	for i, id := range t.SdkAppIDs {
		if j := slices.Index(t.SdkAppIDs[:i], id); j >= 0 {
			p.add(fmt.Sprintf("tencent.sdk_app_ids[%d]", i), "%d is also tencent.sdk_app_ids[%d]; list each app once", id, j)
		}
	}
	if len(t.Apps) == 0 {
		return
	}
	for _, single := range []struct {
		key string
		set bool
	}{
		{"tencent.sdk_app_ids", len(t.SdkAppIDs) > 0},
		{"tencent.auth_token", t.AuthToken != ""},
		{"tencent.auth_tokens", len(t.AuthTokens) > 0},
		{"tencent.trtc_key", t.TRTCKey != ""},
	} {
		if single.set {
			p.add("tencent.apps", "cannot be combined with %s (the single-app form, which may also come from %s_%s): move its ids and tokens into tencent.apps, or remove tencent.apps",
				single.key, EnvPrefix, envName(single.key))
		}
	}
	ids := map[uint64]int{}
	names := map[string]int{}
	for i, a := range t.Apps {
		key := fmt.Sprintf("tencent.apps[%d]", i)
		if a.SdkAppID == 0 {
			p.add(key+".sdk_app_id", "is missing; set the app's SdkAppid, e.g. 1400000001")
		} else if prev, dup := ids[a.SdkAppID]; dup {
			p.add(key+".sdk_app_id", "%d is also tencent.apps[%d]; each app appears once", a.SdkAppID, prev)
		} else {
			ids[a.SdkAppID] = i
		}
		switch prev, dup := names[a.Name]; {
		case a.Name == "":
		case !appNamePattern.MatchString(a.Name):
			p.add(key+".name", "%q must be 1 to 64 letters, digits, '_', '-' or '.', starting with a letter or digit (it labels logs and metrics)", a.Name)
		case a.Name == NoAppName:
			p.add(key+".name", "%q is reserved: it labels callbacks refused before their app is known", a.Name)
		case dup:
			p.add(key+".name", "%q is also the name of tencent.apps[%d]; names must be unique", a.Name, prev)
		default:
			names[a.Name] = i
		}
		for j, tok := range a.Tokens {
			checkToken(p, fmt.Sprintf("%s.tokens[%d]", key, j), tok)
			if k := slices.Index(a.Tokens[:j], tok); k >= 0 {
				p.add(fmt.Sprintf("%s.tokens[%d]", key, j), "repeats %s.tokens[%d]; list each token once", key, k)
			}
		}
		if n := len(a.AllTokens()); n > MaxTokensPerApp {
			p.add(key+".tokens", "the app has %d tokens (tokens and tokens_file together); at most %d: every callback's Sign is computed with each", n, MaxTokensPerApp)
		}
		for j, tok := range a.FileTokens {
			if k := slices.Index(a.Tokens, tok); k >= 0 {
				p.add(key+".tokens_file", "its token %d repeats %s.tokens[%d]; list each token once", j+1, key, k)
			}
		}
		if a.TRTCKey != "" && a.TRTCKeyFile != "" {
			p.add(key+".trtc_key", "set either trtc_key or trtc_key_file, not both")
		}
	}
	// routes[].apps names apps and `routes -app` takes a name or an SdkAppid: a name that is
	// another app's SdkAppid would stand for the wrong app in both.
	for i, a := range t.Apps {
		id, err := strconv.ParseUint(a.Name, 10, 64)
		if j, ok := ids[id]; err == nil && ok && j != i && names[a.Name] == i { // a repeated name is reported as such
			p.add(fmt.Sprintf("tencent.apps[%d].name", i), "%q is the sdk_app_id of tencent.apps[%d]; name an app after its own SdkAppid or with a word", a.Name, j)
		}
	}
}

// checkToken checks one callback token's length, without ever quoting it.
func checkToken(p *problems, key, tok string) {
	switch {
	case tok == "":
		p.add(key, "is empty; Tencent's tokens are 1 to %d characters", MaxTokenLen)
	case len(tok) > MaxTokenLen:
		p.add(key, "is %d characters; Tencent's tokens are 1 to %d", len(tok), MaxTokenLen)
	}
}

// envName spells a dotted key as its environment variable's suffix.
func envName(key string) string {
	b := []byte(key)
	for i, c := range b {
		switch {
		case c == '.':
			b[i] = '_'
		case 'a' <= c && c <= 'z':
			b[i] = c - 'a' + 'A'
		}
	}
	return string(b)
}
