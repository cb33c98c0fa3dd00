//go:build linux

package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"text/template"
	"time"
)

//go:embed nginx.conf.tmpl
var nginxConfText string

var nginxConfTemplate = template.Must(template.New("nginx.conf").Parse(nginxConfText))

// nginxParams fill bench/nginx.conf.tmpl.
type nginxParams struct {
	Dir       string // the run's directory: pid, logs, temp paths
	User      string // set when running as root, so the workers stay this user
	Group     string
	Listen    string // 127.0.0.1:<port>
	Upstream  string // 127.0.0.1:<port> of the stub (or a dead port)
	Path      string // the upstream path: /gifts or /hang
	Deadline  string // nginx time, e.g. 1800ms
	TempPaths []string
	Reuseport bool
	Fallback  string // the route's deny envelope
}

// findNginx returns the nginx binary: in PATH, else /usr/sbin/nginx (not in a user's PATH on
// Debian).
func findNginx() (string, error) {
	if p, err := exec.LookPath("nginx"); err == nil {
		return p, nil
	}
	for _, p := range []string{"/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"} {
		if st, err := os.Stat(p); err == nil && !st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("nginx not found (apt-get install nginx-light)")
}

// nginxInfo returns `nginx -V` output (the version is its first line).
func nginxInfo(ctx context.Context, bin string) string {
	_, stderr, _ := runCmd(ctx, 10*time.Second, "", nil, bin, "-V")
	return stderr
}

// optionalTempPaths returns the *_temp_path directives for the modules this nginx has: each
// would otherwise default to a system directory the bench may not write to.
func optionalTempPaths(info, dir string) []string {
	var out []string
	for _, m := range []string{"fastcgi", "uwsgi", "scgi"} {
		if !strings.Contains(info, "--without-http_"+m+"_module") {
			out = append(out, fmt.Sprintf("%s_temp_path %s;", m, filepath.Join(dir, m)))
		}
	}
	return out
}

// nginxConfig renders bench/nginx.conf.tmpl.
func nginxConfig(p nginxParams) (string, error) {
	var buf bytes.Buffer
	if err := nginxConfTemplate.Execute(&buf, p); err != nil {
		return "", err
	}
	return buf.String(), nil
}

// currentUser returns the user and group names for nginx's user directive when running as
// root (as another user nginx ignores the directive and runs the workers as that user).
func currentUser() (string, string) {
	if os.Geteuid() != 0 {
		return "", ""
	}
	u, err := user.Current()
	if err != nil {
		return "root", "root"
	}
	g, err := user.LookupGroupId(u.Gid)
	if err != nil {
		return u.Username, u.Username
	}
	return u.Username, g.Name
}

// nginxDeadline formats a duration as nginx time.
func nginxDeadline(d time.Duration) string {
	return fmt.Sprintf("%dms", d.Milliseconds())
}

// startNginx writes nginx.conf into dir, checks it with nginx -t and starts nginx on a free
// port, proxying to upstream+path.
func (b *bench) startNginx(ctx context.Context, dir, upstream, path string, deadline time.Duration) (*proc, string, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, "", err
	}
	usr, grp := currentUser()
	text, err := nginxConfig(nginxParams{
		Dir: dir, User: usr, Group: grp, Listen: addr, Upstream: upstream, Path: path,
		Deadline: nginxDeadline(deadline), TempPaths: optionalTempPaths(b.nginxInfo, dir),
		Reuseport: b.opts.reuseport, Fallback: denyEnvelope,
	})
	if err != nil {
		return nil, "", err
	}
	conf := filepath.Join(dir, "nginx.conf")
	if err := os.WriteFile(conf, []byte(text), 0o644); err != nil {
		return nil, "", err
	}
	// -p: relative paths resolve in dir; -e: the error log before the config is read.
	args := []string{b.nginx, "-p", dir + "/", "-c", conf, "-e", filepath.Join(dir, "nginx-error.log")}
	if _, stderr, err := runCmd(ctx, 30*time.Second, dir, nil, append(args, "-t")...); err != nil {
		return nil, "", fmt.Errorf("nginx -t -c %s: %v\n%s", conf, err, strings.TrimSpace(stderr))
	}
	p, err := startServer(ctx, "nginx", filepath.Join(dir, "nginx.out"), args, nil, addr)
	if err != nil {
		return nil, "", err
	}
	// The master listens before it forks the workers; wait for them, so measurements see them.
	for i := 0; i < 200 && len(memPids(p.pid, true)) == 0; i++ {
		time.Sleep(10 * time.Millisecond)
	}
	return p, addr, nil
}

// nginxFallbacks counts the callbacks nginx answered with a fallback: access-log lines whose
// fb= field is not "-".
func nginxFallbacks(logPath string) (int64, error) {
	return countLines(logPath, func(line []byte) bool { return !bytes.HasSuffix(line, []byte(" fb=-")) })
}
