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
	u, err := readyzURL(*target, *path, stderr)
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

// readyzURL is the -url flag, else /readyz on the config's admin listener. The check asks
// the running router, so a file that no longer validates (a reload the router refused, and
// is still serving through) does not fail it: its server.admin_listen is read on its own,
// with a warning on stderr. Only when the file cannot be read at all is the check failed.
func readyzURL(flagURL, flagConfig string, stderr io.Writer) (string, error) {
	if flagURL != "" {
		u, err := url.Parse(flagURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return "", fmt.Errorf("-url %q is not an http(s) URL", flagURL)
		}
		return u.String(), nil
	}
	file := config.ResolvePath(flagConfig)
	listen, err := config.AdminListenOf(file)
	if err != nil {
		return "", fmt.Errorf("%s does not load (use -url to ask the router without it): %w", file, err)
	}
	if _, err := config.LoadFile(file); err != nil {
		fmt.Fprintf(stderr, "healthcheck: warning: %s does not validate, the router keeps the config it runs; asking it anyway\n", file)
	}
	if listen == "" {
		return "", fmt.Errorf("%s: server.admin_listen is empty, so there is no /readyz to ask: enable the admin listener or pass -url", file)
	}
	return adminURL(listen) + "/readyz", nil
}
