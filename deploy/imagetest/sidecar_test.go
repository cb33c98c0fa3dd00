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

	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"
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
	// podman turns exec probes into healthchecks it never runs here (no systemd): run the
	// manifest's own probe commands in the container, as the kubelet would.
	liveness, readiness := sidecarProbes(t, manifest)
	probe := func(command []string) (string, error) {
		return podman(append([]string{"exec", sidecarRouter}, command...)...)
	}
	waitUntil(t, 30*time.Second, "the router container ready", func() (bool, string) {
		out, err := probe(readiness)
		if err != nil {
			logs, _ := podman("logs", "--tail", "20", sidecarRouter)
			return false, err.Error() + "\nlogs:\n" + logs
		}
		return true, out
	})
	if out, err := probe(liveness); err != nil || !strings.Contains(out, "200 OK") {
		t.Errorf("liveness probe %v: %v, printed %q, want 200 OK", liveness, err, out)
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

	// A ConfigMap change the router refuses leaves it serving on the running config: the
	// probes must keep saying so, or Kubernetes would take the pod out of the Service (and
	// restart it into a config that cannot start) for a typo the router itself survives.
	configMount := strings.TrimSpace(mustPodman(t, "volume", "inspect", "--format", "{{.Mountpoint}}", "callback-router-config"))
	config, err := os.ReadFile(filepath.Join(configMount, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(config), "upstream: gifts", "upstream: giftz", 1)
	if broken == string(config) {
		t.Fatal("the sidecar's config has no route naming upstream gifts to break")
	}
	if err := os.WriteFile(filepath.Join(configMount, "config.yaml"), []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	waitUntil(t, 15*time.Second, "the broken config refused", func() (bool, string) {
		logs, _ = podman("logs", sidecarRouter)
		return strings.Contains(logs, "config reload refused"), logs
	})
	for name, command := range map[string][]string{"readiness": readiness, "liveness": liveness} {
		if _, err := probe(command); err != nil {
			t.Errorf("%s probe %v after a refused reload: %v; want it to pass: the router still serves", name, command, err)
		}
	}
	if out, code := send("-token", token, gift); code != 0 || !strings.Contains(out, `"ErrorCode":0`) {
		t.Errorf("gift after a refused reload: exit %d\n%s", code, out)
	}
}

// sidecarProbes returns the exec commands of the router container's liveness and readiness
// probes in the manifest.
func sidecarProbes(t *testing.T, manifest string) (liveness, readiness []string) {
	t.Helper()
	data, err := os.ReadFile(manifest)
	if err != nil {
		t.Fatal(err)
	}
	for _, doc := range strings.Split(string(data), "\n---\n") {
		var d appsv1.Deployment
		if err := yaml.Unmarshal([]byte(doc), &d); err != nil || d.Kind != "Deployment" {
			continue
		}
		for _, c := range d.Spec.Template.Spec.Containers {
			if c.Name != "callback-router" {
				continue
			}
			if c.LivenessProbe == nil || c.LivenessProbe.Exec == nil || c.ReadinessProbe == nil || c.ReadinessProbe.Exec == nil {
				t.Fatalf("%s: the router container's probes are not both exec probes", manifest)
			}
			return c.LivenessProbe.Exec.Command, c.ReadinessProbe.Exec.Command
		}
	}
	t.Fatalf("%s: no Deployment with a callback-router container", manifest)
	return nil, nil
}
