package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/callback-router/callback-router/config"
	"github.com/callback-router/callback-router/redact"
	"github.com/callback-router/callback-router/tencent"
)

// defaultSdkAppID is used by send when neither -sdkappid nor the config names an app.
const defaultSdkAppID = 1400000001

// examplesDir is where send looks for a sample packet named after a command.
const examplesDir = "examples/callbacks"

// send posts a callback exactly as Tencent would: Tencent's query parameters, and Sign and
// RequestTime when a token is known. It prints the answer and how long it took.
func send(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fset := newFlagSet("send", stderr)
	path := fset.String("config", "", "config file for the defaults below (default $CALLBACK_ROUTER_CONFIG or ./config.yaml, if present)")
	target := fset.String("url", "", "router URL (default: http://127.0.0.1:<port of server.listen><server.path>)")
	token := fset.String("token", "", "callback token to sign with (default: the app's first token in the config)")
	sdkAppID := fset.Uint64("sdkappid", 0, "SdkAppid (default: the first app of tencent.apps or tencent.sdk_app_ids, else 1400000001)")
	timeout := fset.Duration("timeout", 5*time.Second, "how long to wait for the answer")
	insecure := fset.Bool("insecure", false, "accept any TLS certificate (a test router with a self-signed certificate)")
	trtc := fset.Bool("trtc", false, "send a TRTC event (room, media, recording) as TRTC does: SdkAppId and Sign headers, no query")
	key := fset.String("key", "", "with -trtc, the TRTC key to sign with (default: the app's trtc_key in the config)")
	fset.Usage = func() {
		fmt.Fprintf(fset.Output(), "usage: callback-router send [flags] FILE|COMMAND\n"+
			"FILE is a JSON callback body; COMMAND sends %s/COMMAND.json if it exists, else {\"CallbackCommand\":COMMAND}.\n"+
			"With -trtc, FILE is a TRTC event body and COMMAND a name such as TRTC.1.103.\n", examplesDir)
		fset.PrintDefaults()
	}
	if code, ok := parseFlags(fset, args, 1); !ok {
		return code
	}
	cfg, err := optionalConfig(*path)
	if err != nil {
		printProblems(stderr, config.ResolvePath(*path), err)
		return ExitError
	}
	read := callbackBody
	if *trtc {
		read = trtcBody
	}
	body, command, err := read(fset.Arg(0))
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return ExitError
	}
	u, err := routerURL(*target, cfg, *trtc)
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return ExitError
	}
	appID := pickAppID(*sdkAppID, cfg)
	if !*trtc {
		u.RawQuery = tencentQuery(u.RawQuery, command, appID, pickToken(*token, appID, cfg), time.Now())
	}

	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		fmt.Fprintln(stderr, "send:", err)
		return ExitError
	}
	req.Header.Set("Content-Type", "application/json")
	if *trtc {
		// As TRTC sends its events: the app and the body's signature in headers.
		req.Header.Set("SdkAppId", strconv.FormatUint(appID, 10))
		if k := pickTRTCKey(*key, appID, cfg); k != "" {
			req.Header.Set("Sign", tencent.SignTRTC(k, body))
		}
	}
	client := &http.Client{Transport: &http.Transport{
		TLSClientConfig: &tls.Config{InsecureSkipVerify: *insecure}, //nolint:gosec // opt-in, for self-signed test routers
	}}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		if uerr, ok := errors.AsType[*url.Error](err); ok {
			uerr.URL = redactSign(u) // net/http quotes the URL whole, Sign included
		}
		fmt.Fprintln(stderr, "send:", err)
		return ExitError
	}
	defer resp.Body.Close()
	answer, err := io.ReadAll(resp.Body)
	elapsed := time.Since(start)
	if err != nil {
		fmt.Fprintln(stderr, "send: reading the answer:", err)
		return ExitError
	}
	fmt.Fprintf(stdout, "POST %s\n", redactSign(u))
	if *trtc {
		signed := "unsigned"
		if req.Header.Get("Sign") != "" {
			signed = "signed"
		}
		fmt.Fprintf(stdout, "%s, SdkAppId %d, %s\n", command, appID, signed)
	}
	fmt.Fprintf(stdout, "%s in %s\n", resp.Status, elapsed.Round(time.Microsecond))
	for _, h := range []string{"X-Request-Id", "X-Callback-Fallback"} {
		if v := resp.Header.Get(h); v != "" {
			fmt.Fprintf(stdout, "%s: %s\n", h, v)
		}
	}
	fmt.Fprintf(stdout, "%s\n", answer)
	if resp.StatusCode != http.StatusOK {
		return ExitError
	}
	return ExitOK
}

// optionalConfig loads the config when one was named or ./config.yaml exists; send works
// without one.
func optionalConfig(flagPath string) (*config.Config, error) {
	file := config.ResolvePath(flagPath)
	if flagPath == "" && os.Getenv(config.EnvConfigPath) == "" {
		if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
	}
	return config.LoadFile(file)
}

// callbackBody reads the body to send: a file, a sample named after a command, or a minimal
// body carrying only the command.
func callbackBody(arg string) (body []byte, command string, err error) {
	body, err = os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		body, err = os.ReadFile(filepath.Join(examplesDir, arg+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			body, err = []byte(`{"CallbackCommand":`+strconv.Quote(arg)+`}`), nil
		}
	}
	if err != nil {
		return nil, "", err
	}
	command = tencent.CommandFromBody(body)
	if command == "" {
		return nil, "", fmt.Errorf("%s: no CallbackCommand in the body", arg)
	}
	return body, command, nil
}

// trtcBody reads a TRTC event to send: a file, a sample named after the event, or for a
// name such as TRTC.1.103 without a sample, a minimal event of that group and type.
func trtcBody(arg string) (body []byte, command string, err error) {
	body, err = os.ReadFile(arg)
	if errors.Is(err, fs.ErrNotExist) {
		body, err = os.ReadFile(filepath.Join(examplesDir, arg+".json"))
		if errors.Is(err, fs.ErrNotExist) {
			body, err = minimalTRTCEvent(arg)
		}
	}
	if err != nil {
		return nil, "", err
	}
	ev, err := tencent.ParseTRTCEvent(body)
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", arg, err)
	}
	return body, ev.Command(), nil
}

// minimalTRTCEvent builds the event a name such as TRTC.1.103 stands for.
func minimalTRTCEvent(name string) ([]byte, error) {
	rest, ok := strings.CutPrefix(name, tencent.TRTCCommandPrefix)
	g, ty, ok2 := strings.Cut(rest, ".")
	group, err1 := strconv.ParseUint(g, 10, 32)
	typ, err2 := strconv.ParseUint(ty, 10, 32)
	if !ok || !ok2 || err1 != nil || err2 != nil {
		return nil, fmt.Errorf("%s is neither a file, a sample in %s, nor a TRTC event name such as TRTC.1.103", name, examplesDir)
	}
	now := time.Now()
	return fmt.Appendf(nil, `{"EventGroupId":%d,"EventType":%d,"CallbackTs":%d,"EventInfo":{"RoomId":"room","EventTs":%d,"EventMsTs":%d,"UserId":"user"}}`,
		group, typ, now.UnixMilli(), now.Unix(), now.UnixMilli()), nil
}

// pickTRTCKey signs with the flag's key, else with the TRTC key of the app the event is
// sent for (of the app serving every SdkAppid, in a single-app config without ids).
func pickTRTCKey(flagKey string, sdkAppID uint64, cfg *config.Config) string {
	if flagKey != "" || cfg == nil {
		return flagKey
	}
	for _, a := range cfg.Tencent.ServedApps() {
		if k := a.Key(); (a.SdkAppID == sdkAppID || a.SdkAppID == 0) && k != "" {
			return k
		}
	}
	return ""
}

// routerURL is -url, else the router's own address from the config: server.path, or for a
// TRTC event server.trtc_path when set (the URL a TRTC console would be given).
func routerURL(flagURL string, cfg *config.Config, trtc bool) (*url.URL, error) {
	if flagURL != "" {
		u, err := url.Parse(flagURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return nil, fmt.Errorf("-url %q is not an http(s) URL", flagURL)
		}
		return u, nil
	}
	listen, path, scheme := ":8080", "/", "http"
	if cfg != nil {
		listen, path = cfg.Server.Listen, cfg.Server.Path
		if trtc && cfg.Server.TRTCPath != "" {
			path = cfg.Server.TRTCPath
		}
		if cfg.Server.TLS.Enabled() {
			scheme = "https"
		}
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return nil, fmt.Errorf("server.listen %q: %w", listen, err)
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "127.0.0.1"
	}
	return &url.URL{Scheme: scheme, Host: net.JoinHostPort(host, port), Path: path}, nil
}

// tencentQuery appends Tencent's parameters to the URL's own query, as Tencent does.
func tencentQuery(existing, command string, sdkAppID uint64, token string, now time.Time) string {
	q := url.Values{}
	q.Set("SdkAppid", strconv.FormatUint(sdkAppID, 10))
	q.Set("CallbackCommand", command)
	q.Set("contenttype", "json")
	q.Set("ClientIP", "127.0.0.1")
	q.Set("OptPlatform", "RESTAPI")
	if token != "" {
		rt := strconv.FormatInt(now.Unix(), 10)
		q.Set("RequestTime", rt)
		q.Set("Sign", tencent.Sign(token, rt))
	}
	if existing != "" {
		return existing + "&" + q.Encode()
	}
	return q.Encode()
}

func pickAppID(flagID uint64, cfg *config.Config) uint64 {
	if flagID != 0 {
		return flagID
	}
	if cfg != nil {
		if id := cfg.Tencent.ServedApps()[0].SdkAppID; id != 0 {
			return id
		}
	}
	return defaultSdkAppID
}

// pickToken signs with the flag's token, else with the first token of the app the callback
// is sent for (of the app serving every SdkAppid, in a single-app config without ids).
func pickToken(flagToken string, sdkAppID uint64, cfg *config.Config) string {
	if flagToken != "" || cfg == nil {
		return flagToken
	}
	for _, a := range cfg.Tencent.ServedApps() {
		if toks := a.AllTokens(); (a.SdkAppID == sdkAppID || a.SdkAppID == 0) && len(toks) > 0 {
			return toks[0]
		}
	}
	return ""
}

// redactSign prints the URL without the signature, which is as good as a password for as
// long as RequestTime is within the skew window, and without userinfo.
func redactSign(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = redact.Sign(c.RawQuery)
	return c.String()
}
