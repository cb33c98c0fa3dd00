package config

import (
	"fmt"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// YAML reads an unquoted 01234567 as octal, 0x1F as hex, 1e5 or a 23-digit number as a
// float and drops the _ of 1_000. Decoded into a string, such a token or key is no longer
// what was written, and every callback it should verify gets 401 with nothing to say why;
// decoded into an SdkAppid, 01400000001 is another app. An unquoted true or false becomes
// the token 1 or 0. The decoded config cannot tell, so
// the YAML itself is read once more for the scalars of those keys.

// plainDecimal is a number YAML reads as an integer whose decimal digits survive decoding.
var plainDecimal = regexp.MustCompile(`^(0|[1-9][0-9]*)$`)

// rewrittenNumbers adds a problem for each token, key or SdkAppid written as a number whose
// digits decoding would change, naming its key and never quoting it. A document that is not
// YAML adds nothing: viper reports that.
func rewrittenNumbers(p *problems, data []byte) {
	var doc yaml.Node
	if yaml.Unmarshal(data, &doc) != nil || len(doc.Content) == 0 {
		return
	}
	const (
		secretAdvice = "YAML reads this unquoted value as a number and changes its digits (a leading 0 is octal, 0x hex; an exponent, a fraction or _ is rewritten): write it in quotes"
		idAdvice     = "YAML reads this number in another base or as a float (a leading 0 is octal, 0x hex): write the SdkAppid in decimal digits, as Tencent's console shows it"
	)
	advice := secretAdvice
	check := func(key string, n *yaml.Node) {
		if n = deref(n); n == nil || n.Kind != yaml.ScalarNode || n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0 {
			return
		}
		switch tag := n.ShortTag(); {
		case tag == "!!float", tag == "!!int" && !plainDecimal.MatchString(n.Value):
			p.add(key, "%s", advice)
		case tag == "!!bool" && advice == secretAdvice:
			// Decoded into a string, true is "1" and false "0".
			p.add(key, "YAML reads this unquoted value as true or false, and the token becomes 1 or 0: write it in quotes")
		}
	}
	checkList := func(key string, n *yaml.Node) {
		if n = deref(n); n != nil && n.Kind == yaml.SequenceNode {
			for i, item := range n.Content {
				check(fmt.Sprintf("%s[%d]", key, i), item)
			}
			return
		}
		check(key, n)
	}
	root := deref(doc.Content[0])
	check("server.admin_token", member(member(root, "server"), "admin_token"))
	tencent := member(root, "tencent")
	check("tencent.auth_token", member(tencent, "auth_token"))
	checkList("tencent.auth_tokens", member(tencent, "auth_tokens"))
	check("tencent.trtc_key", member(tencent, "trtc_key"))
	if apps := deref(member(tencent, "apps")); apps != nil && apps.Kind == yaml.SequenceNode {
		for i, app := range apps.Content {
			key := fmt.Sprintf("tencent.apps[%d]", i)
			checkList(key+".tokens", member(app, "tokens"))
			check(key+".trtc_key", member(app, "trtc_key"))
		}
	}
	advice = idAdvice
	checkList("tencent.sdk_app_ids", member(tencent, "sdk_app_ids"))
	if apps := deref(member(tencent, "apps")); apps != nil && apps.Kind == yaml.SequenceNode {
		for i, app := range apps.Content {
			check(fmt.Sprintf("tencent.apps[%d].sdk_app_id", i), member(app, "sdk_app_id"))
		}
	}
}

// member returns the value of a mapping's key, matched ignoring case as viper matches keys;
// nil when n is not a mapping or has no such key.
func member(n *yaml.Node, key string) *yaml.Node {
	if n = deref(n); n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if strings.EqualFold(n.Content[i].Value, key) {
			return n.Content[i+1]
		}
	}
	return nil
}

// deref follows an alias to the node it names.
func deref(n *yaml.Node) *yaml.Node {
	for n != nil && n.Kind == yaml.AliasNode {
		n = n.Alias
	}
	return n
}
