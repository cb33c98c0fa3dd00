package config_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/internal/testutil"
)

// routeAll is the routes and upstreams part of a config whose tencent section a test varies.
const routeAll = `
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
routes:
  - commands: ["*"]
    upstream: gifts
`

// writeSecret writes content to a file in dir and returns its path.
func writeSecret(t *testing.T, dir, name, content string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestParseApps(t *testing.T) {
	dir := t.TempDir()
	tokens := writeSecret(t, dir, "prod-tokens", "# rotated 2024-05\n\n  file-one  \r\nfile-two\n#old-token\n")
	key := writeSecret(t, dir, "trtc-key", "trtcSecret1\n")
	cfg, err := config.Parse(strings.NewReader(`
tencent:
  apps:
    - sdk_app_id: 1400000001
      name: prod
      tokens: [console-one]
      tokens_file: ` + tokens + `
      trtc_key_file: ` + key + `
    - sdk_app_id: 1400000002
      trtc_key: inlineKey2
` + routeAll))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	apps := cfg.Tencent.ServedApps()
	if got, want := len(apps), 2; got != want {
		t.Fatalf("ServedApps(): got %d apps, want %d", got, want)
	}
	for _, c := range []struct {
		what      string
		got, want string
	}{
		{"apps[0].name", apps[0].Name, "prod"},
		{"apps[0] tokens", strings.Join(apps[0].AllTokens(), ","), "console-one,file-one,file-two"},
		{"apps[0] key", apps[0].Key(), "trtcSecret1"},
		{"apps[1].name defaults to the id", apps[1].Name, "1400000002"},
		{"apps[1] tokens", strings.Join(apps[1].AllTokens(), ","), ""},
		{"apps[1] key", apps[1].Key(), "inlineKey2"},
		{"secret files", strings.Join(cfg.SecretFiles(), ","), tokens + "," + key},
	} {
		if c.got != c.want {
			t.Errorf("%s: got %q, want %q", c.what, c.got, c.want)
		}
	}
}

func TestServedAppsSingleAppForm(t *testing.T) {
	tests := []struct {
		name      string
		tencent   string
		wantNames string
		wantIDs   []uint64
		wantToks  string
	}{
		{name: "listed ids", tencent: `{sdk_app_ids: [1400000001, 1600000002], auth_token: a, auth_tokens: [b]}`,
			wantNames: "1400000001,1600000002", wantIDs: []uint64{1400000001, 1600000002}, wantToks: "a,b"},
		{name: "no id: one app serving any", tencent: `{auth_token: a}`,
			wantNames: config.AnyAppName, wantIDs: []uint64{0}, wantToks: "a"},
		{name: "no token", tencent: `{sdk_app_ids: [1400000001]}`,
			wantNames: "1400000001", wantIDs: []uint64{1400000001}, wantToks: ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg, err := config.Parse(strings.NewReader("tencent: " + tt.tencent + routeAll))
			if err != nil {
				t.Fatalf("Parse() = %v", err)
			}
			var names []string
			for i, a := range cfg.Tencent.ServedApps() {
				names = append(names, a.Name)
				if got, want := a.SdkAppID, tt.wantIDs[i]; got != want {
					t.Errorf("app %d SdkAppID: got %d, want %d", i, got, want)
				}
				if got, want := strings.Join(a.AllTokens(), ","), tt.wantToks; got != want {
					t.Errorf("app %d tokens: got %q, want %q", i, got, want)
				}
			}
			if got, want := strings.Join(names, ","), tt.wantNames; got != want {
				t.Errorf("names: got %q, want %q", got, want)
			}
		})
	}
}

func TestParseAppsInvalid(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 129)
	longFile := writeSecret(t, dir, "long", "ok-token\n"+long+"\n")
	emptyFile := writeSecret(t, dir, "empty", "# nothing yet\n\n")
	dupFile := writeSecret(t, dir, "dup", "one\ntwo\none\n")
	repeatsInline := writeSecret(t, dir, "repeats", "inline\n")
	emptyKey := writeSecret(t, dir, "empty-key", " \n")
	bigFile := writeSecret(t, dir, "big", strings.Repeat("a\n", 40<<10))
	manyFile := writeSecret(t, dir, "many", "f1\nf2\nf3\nf4\nf5\nf6\nf7\nf8\n")
	const two = `
    - {sdk_app_id: 1400000002, name: staging}`
	tests := []struct {
		name string
		apps string // the tencent section
		key  string // the key the error must name
		text string // and, if set, words of its message
	}{
		{name: "both forms: sdk_app_ids", key: "tencent.apps", text: "tencent.sdk_app_ids",
			apps: "sdk_app_ids: [1400000001]\n  apps:\n    - {sdk_app_id: 1400000001}"},
		{name: "both forms: auth_token", key: "tencent.apps", text: "tencent.auth_token",
			apps: "auth_token: tok\n  apps:\n    - {sdk_app_id: 1400000001}"},
		{name: "both forms: auth_tokens", key: "tencent.apps", text: "tencent.auth_tokens",
			apps: "auth_tokens: [tok]\n  apps:\n    - {sdk_app_id: 1400000001}"},
		{name: "single-app form: an id listed twice", key: "tencent.sdk_app_ids[2]", text: "tencent.sdk_app_ids[0]",
			apps: "sdk_app_ids: [1400000001, 1400000002, 1400000001]"},
		// A weakly typed decode would take each of these for another SdkAppid (a wrapped
		// negative, a saturated float, 1 for true, octal or hex from a quoted string).
		{name: "negative sdk_app_id", key: "tencent.apps[0].sdk_app_id", text: "whole number",
			apps: "apps:\n    - {sdk_app_id: -1400000001}"},
		{name: "sdk_app_id beyond 64 bits", key: "tencent.apps[0].sdk_app_id", text: "whole number",
			apps: "apps:\n    - {sdk_app_id: 99999999999999999999999}"},
		{name: "fractional sdk_app_id", key: "tencent.apps[0].sdk_app_id", text: "whole number",
			apps: "apps:\n    - {sdk_app_id: 1400000001.5}"},
		{name: "boolean sdk_app_id", key: "tencent.apps[0].sdk_app_id", text: "whole number",
			apps: "apps:\n    - {sdk_app_id: true}"},
		{name: "hex sdk_app_id in quotes", key: "tencent.apps[0].sdk_app_id", text: "whole number",
			apps: "apps:\n    - {sdk_app_id: \"0x5371\"}"},
		{name: "single-app form: a negative id", key: "tencent.sdk_app_ids[1]", text: "whole number",
			apps: "sdk_app_ids: [1400000001, -1]"},
		// YAML itself reads these as other numbers before any decode hook sees them.
		{name: "sdk_app_id YAML reads as octal", key: "tencent.apps[0].sdk_app_id", text: "decimal digits",
			apps: "apps:\n    - {sdk_app_id: 01400000001}"},
		{name: "sdk_app_id as a float", key: "tencent.apps[0].sdk_app_id", text: "decimal digits",
			apps: "apps:\n    - {sdk_app_id: 1.4e9}"},
		{name: "single-app form: a hex id", key: "tencent.sdk_app_ids[0]", text: "decimal digits",
			apps: "sdk_app_ids: [0x5371]"},
		{name: "missing sdk_app_id", key: "tencent.apps[0].sdk_app_id", text: "missing",
			apps: "apps:\n    - {name: prod}"},
		{name: "repeated sdk_app_id", key: "tencent.apps[1].sdk_app_id", text: "tencent.apps[0]",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: a}\n    - {sdk_app_id: 1400000001, name: b}"},
		{name: "repeated name", key: "tencent.apps[1].name", text: "unique",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: prod}\n    - {sdk_app_id: 1400000002, name: prod}"},
		{name: "explicit name equal to a default one", key: "tencent.apps[1].name", text: "unique",
			apps: "apps:\n    - {sdk_app_id: 1400000001}\n    - {sdk_app_id: 1400000002, name: \"1400000001\"}"},
		// routes[].apps and `routes -app` would take it for the other app.
		{name: "name that is another app's SdkAppid", key: "tencent.apps[0].name", text: "tencent.apps[1]",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: \"1400000002\"}\n    - {sdk_app_id: 1400000002, name: staging}"},
		{name: "name not label-safe", key: "tencent.apps[0].name", text: "letters",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: \"prod app\"}"},
		{name: "name with markup", key: "tencent.apps[0].name", text: "letters",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: \"<b>\"}"},
		{name: "name reserved", key: "tencent.apps[0].name", text: "reserved",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: none}"},
		// YAML reads these unquoted as numbers, and the string decoded from the number is
		// not what was written: the token would never verify.
		{name: "token YAML reads as octal", key: "tencent.apps[0].tokens[1]", text: "quotes",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [a, 01234567]}"},
		{name: "TRTC key YAML reads as a float", key: "tencent.apps[0].trtc_key", text: "quotes",
			apps: "apps:\n    - {sdk_app_id: 1400000001, trtc_key: 12345678901234567890123}"},
		{name: "single-app token YAML reads as hex", key: "tencent.auth_token", text: "quotes",
			apps: "auth_token: 0x1F"},
		{name: "single-app tokens YAML reads as numbers", key: "tencent.auth_tokens[0]", text: "quotes",
			apps: "auth_tokens: [1e5]"},
		{name: "too many tokens", key: "tencent.apps[0].tokens", text: "17 tokens",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [t1, t2, t3, t4, t5, t6, t7, t8, t9], tokens_file: " + manyFile + "}"},
		{name: "too many single-app tokens", key: "tencent.auth_tokens", text: "17 tokens",
			apps: "auth_token: t0\n  auth_tokens: [t1, t2, t3, t4, t5, t6, t7, t8, t9, t10, t11, t12, t13, t14, t15, t16]"},
		{name: "single-app token YAML reads as true", key: "tencent.auth_token", text: "true or false",
			apps: "auth_token: true"},
		{name: "app token YAML reads as false", key: "tencent.apps[0].tokens[0]", text: "true or false",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [False]}"},
		{name: "empty token", key: "tencent.apps[0].tokens[1]", text: "empty",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [a, \"\"]}"},
		{name: "token too long", key: "tencent.apps[0].tokens[0]", text: "129 characters",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [\"" + long + "\"]}"},
		{name: "token repeated", key: "tencent.apps[0].tokens[1]", text: "tokens[0]",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [a, a]}"},
		{name: "tokens_file missing", key: "tencent.apps[0].tokens_file", text: "cannot read",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + filepath.Join(dir, "absent") + "}"},
		{name: "tokens_file a directory", key: "tencent.apps[0].tokens_file", text: "not a regular file",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + dir + "}"},
		{name: "tokens_file with a long token", key: "tencent.apps[0].tokens_file", text: "line 2 is 129 characters",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + longFile + "}"},
		{name: "tokens_file without a token", key: "tencent.apps[0].tokens_file", text: "holds no token",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + emptyFile + "}"},
		{name: "tokens_file repeats its token", key: "tencent.apps[0].tokens_file", text: "line 3 repeats its token 1",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + dupFile + "}"},
		{name: "tokens_file repeats a listed token", key: "tencent.apps[0].tokens_file", text: "tokens[0]",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens: [inline], tokens_file: " + repeatsInline + "}"},
		{name: "tokens_file too large", key: "tencent.apps[0].tokens_file", text: "larger than",
			apps: "apps:\n    - {sdk_app_id: 1400000001, tokens_file: " + bigFile + "}"},
		{name: "trtc key twice", key: "tencent.apps[0].trtc_key", text: "not both",
			apps: "apps:\n    - {sdk_app_id: 1400000001, trtc_key: k, trtc_key_file: " + emptyKey + "}"},
		{name: "trtc_key_file empty", key: "tencent.apps[0].trtc_key_file", text: "empty",
			apps: "apps:\n    - {sdk_app_id: 1400000001, trtc_key_file: " + emptyKey + "}"},
		{name: "unknown app key", key: "tencent.apps[0].token", text: "unknown key",
			apps: "apps:\n    - {sdk_app_id: 1400000001, token: x}"},
		{name: "second app fine, first not", key: "tencent.apps[0].name",
			apps: "apps:\n    - {sdk_app_id: 1400000001, name: \"a b\"}" + two},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			yaml := "tencent:\n  " + tt.apps + routeAll
			checkRefused(t, yaml, tt.key, tt.text)
		})
	}
}

// TestAppsErrorsNeverQuoteTokens reads tokens that would be caught by every check and looks
// for them in the whole error.
func TestAppsErrorsNeverQuoteTokens(t *testing.T) {
	dir := t.TempDir()
	secret := "s3cr3t-" + strings.Repeat("z", 130)
	file := writeSecret(t, dir, "tokens", "s3cr3t-dup\n"+secret+"\ns3cr3t-dup\n")
	_, err := config.Parse(strings.NewReader(`
tencent:
  apps:
    - sdk_app_id: 1400000001
      tokens: ["s3cr3t-dup", "s3cr3t-dup", "` + secret + `", ""]
      tokens_file: ` + file + routeAll))
	if err == nil {
		t.Fatal("Parse() = nil, want errors")
	}
	if got := len(problems(err)); got < 5 {
		t.Errorf("Parse() reported %d problems, want at least 5:\n%v", got, err)
	}
	if strings.Contains(err.Error(), "s3cr3t") {
		t.Errorf("Parse() error quotes a token:\n%v", err)
	}
}

func TestRouteApps(t *testing.T) {
	const apps = `
tencent:
  apps:
    - {sdk_app_id: 1400000001, name: prod}
    - {sdk_app_id: 1400000002, name: staging}
upstreams:
  gifts: {url: "http://127.0.0.1:9001/gifts"}
  staging-gifts: {url: "http://127.0.0.1:9002/gifts"}
routes:
`
	valid := []struct {
		name   string
		routes string
	}{
		{name: "app route beside a route for every app", routes: `
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - commands: ["Live.CallbackBeforeSendGift"]
    apps: [staging]
    upstream: staging-gifts`},
		{name: "one command per app", routes: `
  - commands: ["Live.CallbackBeforeSendGift", "Live.*"]
    apps: [prod]
    upstream: gifts
  - commands: ["Live.CallbackBeforeSendGift", "Live.*"]
    apps: [staging]
    upstream: staging-gifts`},
	}
	for _, tt := range valid {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := config.Parse(strings.NewReader(apps + tt.routes)); err != nil {
				t.Errorf("Parse() = %v, want no error", err)
			}
		})
	}
	invalid := []struct {
		name   string
		routes string
		key    string
		text   string
	}{
		{name: "same exact command for the same app", key: "routes[1].commands[0]", text: "for app staging by routes[0].commands[0]", routes: `
  - commands: ["Live.CallbackBeforeSendGift"]
    apps: [staging]
    upstream: staging-gifts
  - commands: ["live.callbackbeforesendgift"]
    apps: [prod, staging]
    upstream: gifts`},
		{name: "same pattern for the same app", key: "routes[1].commands[0]", text: "app prod", routes: `
  - commands: ["Live.*"]
    apps: [prod]
    upstream: gifts
  - commands: ["Live.*"]
    apps: [prod]
    upstream: gifts`},
		{name: "same command for every app twice", key: "routes[1].commands[0]", text: "every app", routes: `
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
  - commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts`},
		{name: "unknown app", key: "routes[0].apps[0]", text: "prod, staging", routes: `
  - commands: ["*"]
    apps: [production]
    upstream: gifts`},
		{name: "app listed twice", key: "routes[0].apps[1]", text: "twice", routes: `
  - commands: ["*"]
    apps: [prod, prod]
    upstream: gifts`},
	}
	for _, tt := range invalid {
		t.Run(tt.name, func(t *testing.T) {
			err := checkRefused(t, apps+tt.routes, tt.key, tt.text)
			if got := len(problems(err)); got != 1 {
				t.Errorf("Parse() reported %d problems, want 1:\n%v", got, err)
			}
		})
	}
	// The single-app form's apps are named by their ids, and routes may name them.
	if _, err := config.Parse(strings.NewReader(`
tencent: {sdk_app_ids: [1400000001]}
upstreams: {gifts: {url: "http://127.0.0.1:9001/gifts"}}
routes: [{commands: ["*"], apps: ["1400000001"], upstream: gifts}]
`)); err != nil {
		t.Errorf("Parse() of a route naming a single-app id = %v, want no error", err)
	}
}

func TestLoadFileRereadsTokensFile(t *testing.T) {
	dir := t.TempDir()
	tokens := writeSecret(t, dir, "tokens", "first\n")
	path := testutil.WriteFile(t, "config.yaml", "tencent:\n  apps:\n    - {sdk_app_id: 1400000001, tokens_file: "+tokens+"}\n"+routeAll)
	for _, want := range []string{"first", "second,third"} {
		writeSecret(t, dir, "tokens", strings.ReplaceAll(want, ",", "\n"))
		cfg, err := config.LoadFile(path)
		if err != nil {
			t.Fatalf("LoadFile() = %v", err)
		}
		if got := strings.Join(cfg.Tencent.ServedApps()[0].AllTokens(), ","); got != want {
			t.Errorf("tokens after writing %q: got %q, want %q", want, got, want)
		}
	}
}

// TestRewrittenNumberReportedOnce: a fractional SdkAppid fails to decode; it is not also
// reported as a number YAML rewrites.
func TestRewrittenNumberReportedOnce(t *testing.T) {
	_, err := config.Parse(strings.NewReader("tencent:\n  apps:\n    - {sdk_app_id: 1400000001.5}\n" + routeAll))
	if got := len(problems(err)); got != 1 {
		t.Errorf("Parse() reported %d problems, want 1:\n%v", got, err)
	}
}

// TestNumericSecretsKeepTheirDigits: a token or key YAML reads as a plain decimal number
// decodes to the same digits, so it is taken unquoted; one in quotes is taken as written.
func TestNumericSecretsKeepTheirDigits(t *testing.T) {
	checkAppSecrets(t, `
tencent:
  apps:
    - {sdk_app_id: 1400000001, tokens: [12345678, "01234567", '1e5'], trtc_key: 20240501}
`+routeAll, "12345678,01234567,1e5", "20240501")
}

// checkAppSecrets parses yaml and checks its first app's tokens (joined with commas) and
// TRTC key.
func checkAppSecrets(t *testing.T, yaml, wantTokens, wantKey string) {
	t.Helper()
	cfg, err := config.Parse(strings.NewReader(yaml))
	if err != nil {
		t.Fatalf("Parse() = %v", err)
	}
	app := cfg.Tencent.ServedApps()[0]
	if got := strings.Join(app.AllTokens(), ","); got != wantTokens {
		t.Errorf("tokens: got %q, want %q", got, wantTokens)
	}
	if got := app.Key(); got != wantKey {
		t.Errorf("TRTC key: got %q, want %q", got, wantKey)
	}
}

// TestSecretFilesFromWindowsEditors: a file saved by a Windows editor starts with a UTF-8
// byte order mark and ends its lines with CRLF. Neither is part of a token or key: a token
// read with the mark would never verify, and every callback signed with it would get 401.
func TestSecretFilesFromWindowsEditors(t *testing.T) {
	dir := t.TempDir()
	const bom = "\ufeff"
	tokens := writeSecret(t, dir, "tokens", bom+"first-token\r\nsecond-token \r\n")
	key := writeSecret(t, dir, "key", bom+"TrtcKey42\r\n")
	checkAppSecrets(t, "tencent:\n  apps:\n    - {sdk_app_id: 1400000001, tokens_file: "+tokens+", trtc_key_file: "+key+"}\n"+routeAll,
		"first-token,second-token", "TrtcKey42")
}

func TestEnvTokenWithAppsIsAnError(t *testing.T) {
	path := testutil.WriteFile(t, "config.yaml", "tencent:\n  apps:\n    - {sdk_app_id: 1400000001, tokens: [a]}\n"+routeAll)
	t.Setenv("CALLBACK_ROUTER_TENCENT_AUTH_TOKEN", "from-env")
	_, err := config.LoadFile(path)
	if err == nil || !hasKey(err, "tencent.apps") || !strings.Contains(err.Error(), "CALLBACK_ROUTER_TENCENT_AUTH_TOKEN") {
		t.Errorf("LoadFile() = %v, want an error naming tencent.apps and CALLBACK_ROUTER_TENCENT_AUTH_TOKEN", err)
	}
	if err != nil && strings.Contains(err.Error(), "from-env") {
		t.Errorf("LoadFile() error quotes the token:\n%v", err)
	}
}

// TestSecretFileThatIsAFIFOIsRefusedAtOnce: opening a named pipe for reading waits for a
// writer, so a tokens_file or trtc_key_file that is one would hang the start or a reload.
// It is refused, by key, without being opened.
func TestSecretFileThatIsAFIFOIsRefusedAtOnce(t *testing.T) {
	fifo := testutil.NamedPipe(t, "tokens")
	for _, key := range []string{"tokens_file", "trtc_key_file"} {
		t.Run(key, func(t *testing.T) {
			var err error
			testutil.ReturnsWithoutWaitingOnPipe(t, fifo, nil, 5*time.Second, func() {
				_, err = config.Parse(strings.NewReader("tencent:\n  apps:\n    - {sdk_app_id: 1400000001, " + key + ": " + fifo + "}" + routeAll))
			})
			if err == nil || !hasKey(err, "tencent.apps[0]."+key) || !strings.Contains(err.Error(), "not a regular file") {
				t.Errorf("Parse() = %v, want an error naming tencent.apps[0].%s as not a regular file", err, key)
			}
		})
	}
}

// TestSecretFileSwappedForAFIFOIsNeverWaitedOn swaps a named pipe and a regular file under a
// secret file's path, as fast as renames go, while ReadSecretFile reads it: a pipe put there
// between the look before opening and the open must be refused too, not waited on.
func TestSecretFileSwappedForAFIFOIsNeverWaitedOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tokens")
	pipe := testutil.SwapWithPipe(t, path, "a-token\n")
	testutil.ReturnsWithoutWaitingOnPipe(t, pipe, nil, 10*time.Second, func() {
		for end := time.Now().Add(time.Second); time.Now().Before(end); {
			if data, err := config.ReadSecretFile(path); err == nil && string(data) != "a-token\n" {
				t.Errorf("read %q, want the regular file's content", data)
			}
		}
	})
}
