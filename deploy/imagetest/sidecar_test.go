//go:build image

package imagetest

import (
	"encoding/base64"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// The names deploy/kubernetes/sidecar.yaml gives what `podman kube play` creates.
const (
	sidecarPod       = "live-app-pod-0"
	sidecarRouter    = sidecarPod + "-callback-router"
	sidecarSecret    = "callback-router-secrets"
	sidecarToken     = "replace-with-the-console-callback-token"
	sidecarSdkAppID  = "1400000001"
	sidecarCallbacks = "127.0.0.1:8080"
)

// sidecarVolumes are the volumes podman creates for the manifest: the PVC, and (podman 4.3)
// one per ConfigMap and Secret mounted.
var sidecarVolumes = []string{"callback-router-data", "callback-router-config", "callback-router-secrets"}

// TestSidecarKubePlay plays deploy/kubernetes/sidecar.yaml as it is, with the host's
// network, and sends a signed gift through the router container to the app container of
// the same pod.
func TestSidecarKubePlay(t *testing.T) {
	root := repoRoot(t)
	manifest := filepath.Join(root, "deploy", "kubernetes", "sidecar.yaml")
	// With the host's network the pod's ports are this machine's: say so rather than fail
	// obscurely if something else holds them.
	for _, addr := range []string{sidecarCallbacks, "127.0.0.1:9090", "127.0.0.1:9001"} {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			t.Fatalf("%s is in use on this machine; the sidecar manifest's pod needs it", addr)
		}
	}
	cleanup := func() {
		podman("kube", "down", manifest)
		podman("pod", "rm", "-f", "-t", "0", sidecarPod)
		podman(append([]string{"volume", "rm", "-f"}, sidecarVolumes...)...)
		podman("secret", "rm", sidecarSecret)
	}
	cleanup() // a run killed midway may have left them
	t.Cleanup(cleanup)

	mustPodman(t, "kube", "play", "--network", "host", manifest)
	waitUntil(t, 30*time.Second, "the router container ready", func() (bool, string) {
		out, err := podman("exec", sidecarRouter, "/callback-router", "healthcheck")
		if err != nil {
			logs, _ := podman("logs", "--tail", "20", sidecarRouter)
			return false, err.Error() + "\nlogs:\n" + logs
		}
		return true, out
	})
	if out := mustPodman(t, "exec", sidecarRouter, "/callback-router", "healthcheck", "-url", "http://127.0.0.1:9090/healthz"); !strings.Contains(out, "200 OK") {
		t.Errorf("liveness probe command printed %q, want 200 OK", out)
	}

	// The router reads its token from the Secret's file (tokens_file). Kubernetes decodes
	// the Secret's data into it; podman 4.3 writes the base64 text as it is. Sign with what
	// the router was given, and check it is one of the two.
	mount := strings.TrimSpace(mustPodman(t, "volume", "inspect", "--format", "{{.Mountpoint}}", "callback-router-secrets"))
	raw, err := os.ReadFile(filepath.Join(mount, "tokens"))
	if err != nil {
		t.Fatal(err)
	}
	token := strings.TrimSpace(string(raw))
	if encoded := base64.StdEncoding.EncodeToString([]byte(sidecarToken + "\n")); token != sidecarToken && token != encoded {
		t.Fatalf("the mounted tokens file holds %d bytes that are neither the manifest's token nor its base64", len(token))
	}

	gift := filepath.Join(root, "examples", "callbacks", "Live.CallbackBeforeSendGift.json")
	send := func(args ...string) (string, int) {
		return runBin(t, append([]string{"send", "-url", "http://" + sidecarCallbacks + "/", "-sdkappid", sidecarSdkAppID}, args...)...)
	}
	waitUntil(t, 15*time.Second, "a gift answered by the app container", func() (bool, string) {
		out, code := send("-token", token, gift)
		return code == 0 && !strings.Contains(out, "X-Callback-Fallback") && strings.Contains(out, `"ErrorCode":0`), out
	})
	if out, code := send("-token", "not-the-token", gift); code == 0 || !strings.Contains(out, "401") {
		t.Errorf("gift signed with another token: exit %d, output %q; want 401", code, out)
	}
	// The example upstream logs nothing for a gift it allows: the router's log line says
	// which upstream answered (lines reach stdout in blocks at most 100 ms old).
	var logs string
	waitUntil(t, 5*time.Second, "the router's log line of the gift the upstream answered", func() (bool, string) {
		logs, _ = podman("logs", sidecarRouter)
		return strings.Contains(logs, `"upstream":"gifts"`) && strings.Contains(logs, `"decision":"upstream"`), logs
	})
	if strings.Contains(logs, token) {
		t.Errorf("the token appears in the router's logs")
	}
}
