package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/callback-router/callback-router/config"
)

// healthcheck asks the running router's admin listener whether it is ready (/readyz) and
// exits 0 when it answers 200, 1 otherwise. It is the container image's HEALTHCHECK: the
// image has no shell and no curl, only this binary.
func healthcheck(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet("healthcheck", stderr)
	path := fs.String("config", "", "config file naming server.admin_listen (default $CALLBACK_ROUTER_CONFIG or ./config.yaml)")
	target := fs.String("url", "", "URL to ask instead (default: http://<server.admin_listen>/readyz)")
	timeout := fs.Duration("timeout", 3*time.Second, "how long to wait for the answer")
	if code, ok := parseFlags(fs, args, 0); !ok {
		return code
	}
	u, err := readyzURL(*target, *path)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return ExitError
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return ExitError
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		fmt.Fprintln(stderr, "healthcheck:", err)
		return ExitError
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 4<<10))
	if resp.StatusCode != http.StatusOK {
		fmt.Fprintf(stderr, "healthcheck: %s answered %s: %s\n", u, resp.Status, strings.TrimSpace(string(body)))
		return ExitError
	}
	fmt.Fprintf(stdout, "%s: %s\n", u, resp.Status)
	return ExitOK
}

// readyzURL is the -url flag, else /readyz on the config's admin listener. A config that
// does not load (a refused reload left on disk) is a failed check: the operator has to
// fix it before the next restart anyway, and -url bypasses the config entirely.
func readyzURL(flagURL, flagConfig string) (string, error) {
	if flagURL != "" {
		u, err := url.Parse(flagURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("-url %q is not an http(s) URL", flagURL)
		}
		return u.String(), nil
	}
	file := config.ResolvePath(flagConfig)
	cfg, err := config.LoadFile(file)
	if err != nil {
		return "", fmt.Errorf("%s does not load (use -url to ask the router without it): %w", file, err)
	}
	if cfg.Server.AdminListen == "" {
		return "", fmt.Errorf("%s: server.admin_listen is empty, so there is no /readyz to ask: enable the admin listener or pass -url", file)
	}
	return adminURL(cfg.Server.AdminListen) + "/readyz", nil
}
