//go:build linux

package main

import (
	"math"
	"strings"
	"testing"
	"time"

	"github.com/callback-router/callback-router/config"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		xs   []float64
		want float64
	}{
		{[]float64{3, 1, 2}, 2},
		{[]float64{4, 1, 3, 2}, 2.5},
		{[]float64{math.NaN(), 5, math.Inf(1)}, 5},
	}
	for _, c := range cases {
		if got := median(c.xs); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.xs, got, c.want)
		}
	}
	if !math.IsNaN(median(nil)) {
		t.Error("median(nil) is not NaN")
	}
}

func TestMedAddedPairsRounds(t *testing.T) {
	run := func(target string, round int, p99 time.Duration) runResult {
		return runResult{Scenario: 2, Target: target, Round: round, Load: loadResult{P99: p99}}
	}
	b := &bench{results: []runResult{
		run(targetDirect, 1, 100), run(targetRouter, 1, 150),
		run(targetDirect, 2, 300), run(targetRouter, 2, 310),
		run(targetDirect, 3, 200), run(targetRouter, 3, 230),
		{Scenario: 2, Target: targetRouter, Round: 4, Failed: "x"},
	}}
	if got := b.medAdded(2, targetRouter, fP99); got != 30 {
		t.Errorf("medAdded = %v, want 30 (the median of 50, 10, 30)", got)
	}
}

func TestFormatting(t *testing.T) {
	for in, want := range map[float64]string{0: "0", 999: "999", 1000: "1,000", 1234567.4: "1,234,567", -45123: "-45,123"} {
		if got := fmtInt(in); got != want {
			t.Errorf("fmtInt(%v) = %q, want %q", in, got, want)
		}
	}
	for in, want := range map[time.Duration]string{412 * time.Microsecond: "0.412 ms", 2345 * time.Microsecond: "2.35 ms", 24200 * time.Microsecond: "24.2 ms", 1059 * time.Millisecond: "1059 ms"} {
		if got := fmtMs(float64(in)); got != want {
			t.Errorf("fmtMs(%v) = %q, want %q", in, got, want)
		}
	}
	if got := fmtAddedMs(float64(-100 * time.Microsecond)); got != "-0.100 ms" {
		t.Errorf("fmtAddedMs(-100µs) = %q", got)
	}
}

func TestTableAlignsNumbers(t *testing.T) {
	got := table([]string{"target", "req/s", "answer"}, [][]string{{"nginx", "1,000", "upstream_error"}, {"router", "25", "breaker_open"}})
	want := `| target | req/s | answer         |
| ------ | ----: | -------------- |
| nginx  | 1,000 | upstream_error |
| router |    25 | breaker_open   |
`
	if got != want {
		t.Errorf("table =\n%s\nwant\n%s", got, want)
	}
}

func TestCPUModel(t *testing.T) {
	info := "processor\t: 0\nvendor_id\t: AuthenticAMD\nmodel name\t: AMD EPYC 7B13\nprocessor\t: 1\nmodel name\t: AMD EPYC 7B13\n"
	if got := cpuModel(info); got != "AMD EPYC 7B13" {
		t.Errorf("cpuModel = %q", got)
	}
}

// The router's bench config must be one the router accepts: this fails when a config key the
// template uses is renamed (adjust routerConfigTemplate in router.go).
func TestRouterConfigIsValid(t *testing.T) {
	for _, p := range []routerParams{
		{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/gifts", Deadline: 1800 * time.Millisecond, OpenFor: 10 * time.Second, MaxInFlight: 8192},
		{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/hang", Deadline: time.Second, OpenFor: 10 * time.Minute, MaxInFlight: 8192},
		{Listen: "127.0.0.1:18080", UpstreamURL: "http://127.0.0.1:19001/gifts", Deadline: time.Second, OpenFor: time.Minute, MaxInFlight: 8192, Pipeline: 2},
	} {
		text, err := routerConfig(p)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := config.Parse(strings.NewReader(text))
		if err != nil {
			t.Fatalf("the router refuses the bench config:\n%v\n%s", err, text)
		}
		if cfg.Server.Listen != p.Listen || cfg.Server.AdminListen != "" || len(cfg.Routes) != 2 || *cfg.Routes[0].Deadline != p.Deadline {
			t.Errorf("config = %+v", cfg)
		}
		if u, _ := cfg.Upstream("gifts"); u.Pipeline != p.Pipeline {
			t.Errorf("upstreams.gifts.pipeline = %d, want %d", u.Pipeline, p.Pipeline)
		}
	}
}

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
