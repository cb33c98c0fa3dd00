//go:build linux

package main

import (
	"strings"
	"testing"
	"time"
)

func TestNginxConfig(t *testing.T) {
	text, err := nginxConfig(nginxParams{
		Dir: "/tmp/b", User: "root", Group: "root", Listen: "127.0.0.1:18081", Upstream: "127.0.0.1:19001",
		Path: "/gifts", Deadline: nginxDeadline(1800 * time.Millisecond), Reuseport: true, Fallback: denyEnvelope,
		TempPaths: optionalTempPaths("configure arguments: --without-http_uwsgi_module", "/tmp/b"),
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"worker_processes auto;", "user root root;", "pid /tmp/b/nginx.pid;", "worker_connections 8192;",
		"access_log /tmp/b/nginx-access.log callback buffer=64k", "fastcgi_temp_path /tmp/b/fastcgi;",
		"Live.CallbackBeforeSendGift  gifts;", "server 127.0.0.1:19001;", "keepalive 256;",
		"listen 127.0.0.1:18081 backlog=4096 reuseport;", "proxy_pass http://$backend/gifts$is_args$args;",
		"proxy_read_timeout 1800ms;", "proxy_next_upstream_tries 2;", "error_page 502 503 504 =200 @fallback;",
		"add_header X-Callback-Fallback upstream_error always;", "return 200 '" + denyEnvelope + "';",
	} {
		if !strings.Contains(text, want) {
			t.Errorf("nginx.conf lacks %q", want)
		}
	}
	if strings.Contains(text, "uwsgi_temp_path") {
		t.Error("nginx.conf sets uwsgi_temp_path for an nginx without uwsgi")
	}
}
