//go:build image

package imagetest

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// maxImageBytes is the size the issue allows the router's image.
const maxImageBytes = 25_000_000

// stopGrace is what `podman stop` gives the router before SIGKILL; the config's
// shutdown_timeout (10s) fits inside it.
const stopGrace = 20

const (
	testToken    = "image-test-callback-token"
	testSdkAppID = "1400000001"
)

// routerConfig is the config the image test mounts: a synchronous gift route and an async
// route to the example upstream on upstreamPort, the store on the /data volume, and short
// delivery backoffs so that a callback waiting for its upstream is retried soon after it is
// back. The token comes from the environment (a podman secret).
func routerConfig(listen, admin, upstreamPort int) string {
	return fmt.Sprintf(`
server:
  listen: "127.0.0.1:%d"
  admin_listen: "127.0.0.1:%d"
  shutdown_timeout: 10s
  drain_grace: 1s
tencent:
  sdk_app_ids: [%s]
upstreams:
  gifts: {url: "http://127.0.0.1:%d/gifts"}
  events: {url: "http://127.0.0.1:%d/events"}
routes:
  - name: gifts
    commands: ["Live.CallbackBeforeSendGift"]
    upstream: gifts
    deadline: 1500ms
    fallback: {action: deny, error_code: 102101, error_info: "gift service unavailable"}
  - name: events
    commands: ["Live.CallbackAfter*"]
    upstream: events
    async: true
  - name: everything-else
    commands: ["*"]
delivery:
  dir: /data
  backoff: {initial: 200ms, max: 2s}
log:
  format: json
`, listen, admin, testSdkAppID, upstreamPort, upstreamPort)
}

// TestImage runs the router's image for real: size, the token from a secret, a signed gift
// answered by the upstream's container, the image's HEALTHCHECK, an async callback
// acknowledged while its upstream is down surviving SIGKILL and a new container on the same
// /data volume, and a clean SIGTERM stop.
func TestImage(t *testing.T) {
	root := repoRoot(t)
	name := fmt.Sprintf("cr-imagetest-%d", os.Getpid())
	router, upstream, volume, secret := name+"-router", name+"-upstream", name+"-data", name+"-token"
	t.Cleanup(func() {
		podman("rm", "-f", "-v", "-t", "0", router, upstream)
		podman("volume", "rm", "-f", volume)
		podman("secret", "rm", secret)
	})

	t.Run("size", func(t *testing.T) {
		out := mustPodman(t, "image", "inspect", "--format", "{{.Size}}", routerImage)
		size, err := strconv.ParseInt(strings.TrimSpace(out), 10, 64)
		if err != nil {
			t.Fatalf("image size %q: %v", out, err)
		}
		t.Logf("%s is %.1f MB", routerImage, float64(size)/1e6)
		if size >= maxImageBytes {
			t.Errorf("image size: got %d bytes, want under %d", size, maxImageBytes)
		}
		if user := strings.TrimSpace(mustPodman(t, "image", "inspect", "--format", "{{.Config.User}}", routerImage)); user != "65532:65532" {
			t.Errorf("image user: got %q, want %q", user, "65532:65532")
		}
	})

	listen, admin, upPort := freePort(t), freePort(t), freePort(t)
	cfgDir := writeConfigDir(t, routerConfig(listen, admin, upPort))
	if out, code := runBin(t, "validate", "-config", filepath.Join(cfgDir, "config.yaml")); code != 0 {
		t.Fatalf("the test's config does not validate:\n%s", out)
	}
	secretFile := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(secretFile, []byte(testToken), 0o600); err != nil {
		t.Fatal(err)
	}
	mustPodman(t, "secret", "create", secret, secretFile)
	runRouter := func() {
		t.Helper()
		mustPodman(t, "run", "-d", "--name", router, "--network", "host",
			"-v", cfgDir+":/etc/callback-router:ro", "-v", volume+":/data",
			"--secret", secret+",type=env,target=CALLBACK_ROUTER_TENCENT_AUTH_TOKEN",
			routerImage)
	}
	mustPodman(t, "run", "-d", "--name", upstream, "--network", "host", upstreamImage, "-listen", fmt.Sprintf("127.0.0.1:%d", upPort))
	runRouter()
	url := fmt.Sprintf("http://127.0.0.1:%d/", listen)
	send := func(args ...string) (string, int) {
		return runBin(t, append([]string{"send", "-url", url, "-sdkappid", testSdkAppID}, args...)...)
	}

	t.Run("healthcheck", func(t *testing.T) {
		waitHealthy(t, router)
		out := mustPodman(t, "exec", router, "/callback-router", "healthcheck")
		if !strings.Contains(out, "200 OK") {
			t.Errorf("healthcheck inside the container printed %q, want 200 OK", out)
		}
	})

	t.Run("signed gift gets the upstream's verdict", func(t *testing.T) {
		gift := filepath.Join(root, "examples", "callbacks", "Live.CallbackBeforeSendGift.json")
		waitUntil(t, 15*time.Second, "a gift answered by the upstream", func() (bool, string) {
			out, code := send("-token", testToken, gift)
			return code == 0 && !strings.Contains(out, "X-Callback-Fallback") && strings.Contains(out, `"ErrorCode":0`), out
		})
		// The token reached the router from the secret: an unsigned callback is refused.
		if out, code := send(gift); code == 0 || !strings.Contains(out, "401") {
			t.Errorf("unsigned gift: exit %d, output %q; want 401", code, out)
		}
	})

	var requestID string
	t.Run("async callback survives SIGKILL and a new container", func(t *testing.T) {
		mustPodman(t, "stop", "-t", "5", upstream)
		out, code := send("-token", testToken, filepath.Join(root, "examples", "callbacks", "Live.CallbackAfterCreateRoom.json"))
		if code != 0 || !strings.Contains(out, "200 OK") {
			t.Fatalf("async callback with the upstream down: exit %d\n%s", code, out)
		}
		m := regexp.MustCompile(`X-Request-Id: (\S+)`).FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("no X-Request-Id in %q", out)
		}
		requestID = m[1]
		stats := mustPodman(t, "exec", router, "/callback-router", "queue", "stats")
		if !strings.Contains(stats, `"pending": 1,`) {
			t.Fatalf("queue stats before the kill: got %s, want 1 pending", stats)
		}

		mustPodman(t, "kill", "-s", "KILL", router)
		mustPodman(t, "wait", router)
		if code := strings.TrimSpace(mustPodman(t, "inspect", "--format", "{{.State.ExitCode}}", router)); code != "137" {
			t.Errorf("exit code after SIGKILL: got %s, want 137", code)
		}
		mustPodman(t, "rm", router)
		mustPodman(t, "start", upstream)
		runRouter() // a new container on the same volume
		waitHealthy(t, router)
		waitUntil(t, 60*time.Second, "the stored callback delivered", func() (bool, string) {
			logs, _ := podman("logs", upstream)
			return strings.Contains(logs, "request_id="+requestID) && strings.Contains(logs, "Live.CallbackAfterCreateRoom"), logs
		})
		waitUntil(t, 10*time.Second, "the store empty", func() (bool, string) {
			stats, _ := podman("exec", router, "/callback-router", "queue", "stats")
			return strings.Contains(stats, `"pending": 0,`), stats
		})
	})

	t.Run("SIGTERM stops it with exit 0 within the grace", func(t *testing.T) {
		start := time.Now()
		mustPodman(t, "stop", "-t", strconv.Itoa(stopGrace), router)
		took := time.Since(start)
		code := strings.TrimSpace(mustPodman(t, "inspect", "--format", "{{.State.ExitCode}}", router))
		t.Logf("podman stop took %s, exit code %s", took.Round(time.Millisecond), code)
		if code != "0" {
			logs, _ := podman("logs", "--tail", "20", router)
			t.Errorf("exit code after SIGTERM: got %s, want 0; logs:\n%s", code, logs)
		}
		if took >= stopGrace*time.Second {
			t.Errorf("podman stop took %s, want less than the %ds grace", took, stopGrace)
		}
		logs := mustPodman(t, "logs", router)
		if strings.Contains(logs, testToken) {
			t.Errorf("the token appears in the router's logs")
		}
	})
}
