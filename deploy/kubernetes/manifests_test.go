package kubernetes

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	monitoringv1 "github.com/prometheus-operator/prometheus-operator/pkg/apis/monitoring/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	policyv1 "k8s.io/api/policy/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"sigs.k8s.io/yaml"
)

var update = flag.Bool("update", false, "rewrite ha.yaml's PrometheusRule from examples/prometheus-alerts.yaml")

// manifests are the files of this directory the tests read.
var manifests = []string{"sidecar.yaml", "edge.yaml", "ha.yaml"}

// externalSecrets are Secrets a manifest uses but the operator creates (cert-manager or kubectl).
var externalSecrets = map[string]bool{"callback-router-tls": true}

// manifest is one decoded file.
type manifest struct {
	name           string
	configMaps     map[string]*corev1.ConfigMap
	secrets        map[string]*corev1.Secret
	claims         map[string]*corev1.PersistentVolumeClaim
	services       []*corev1.Service
	deployments    []*appsv1.Deployment
	statefulSets   []*appsv1.StatefulSet
	budgets        []*policyv1.PodDisruptionBudget
	serviceMonitor []*monitoringv1.ServiceMonitor
	rules          []*monitoringv1.PrometheusRule
}

// documentSeparator splits a multi-document YAML file.
var documentSeparator = regexp.MustCompile(`(?m)^---[ \t]*$`)

// documents returns the documents of a YAML file that hold more than comments.
func documents(data []byte) [][]byte {
	var docs [][]byte
	for _, doc := range documentSeparator.Split(string(data), -1) {
		for _, line := range strings.Split(doc, "\n") {
			if t := strings.TrimSpace(line); t != "" && !strings.HasPrefix(t, "#") {
				docs = append(docs, []byte(doc))
				break
			}
		}
	}
	return docs
}

// decode reads a manifest, decoding every document strictly into the API type its
// apiVersion and kind name: an unknown field, a duplicate key or an unknown kind fails.
func decode(t *testing.T, name string) *manifest {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	m := &manifest{name: name, configMaps: map[string]*corev1.ConfigMap{}, secrets: map[string]*corev1.Secret{},
		claims: map[string]*corev1.PersistentVolumeClaim{}}
	for i, doc := range documents(data) {
		var tm metav1.TypeMeta
		if err := yaml.Unmarshal(doc, &tm); err != nil {
			t.Fatalf("%s: document %d: %v", name, i+1, err)
		}
		var obj any
		switch tm.APIVersion + " " + tm.Kind {
		case "v1 ConfigMap":
			obj = new(corev1.ConfigMap)
		case "v1 Secret":
			obj = new(corev1.Secret)
		case "v1 PersistentVolumeClaim":
			obj = new(corev1.PersistentVolumeClaim)
		case "v1 Service":
			obj = new(corev1.Service)
		case "apps/v1 Deployment":
			obj = new(appsv1.Deployment)
		case "apps/v1 StatefulSet":
			obj = new(appsv1.StatefulSet)
		case "policy/v1 PodDisruptionBudget":
			obj = new(policyv1.PodDisruptionBudget)
		case "monitoring.coreos.com/v1 ServiceMonitor":
			obj = new(monitoringv1.ServiceMonitor)
		case "monitoring.coreos.com/v1 PrometheusRule":
			obj = new(monitoringv1.PrometheusRule)
		default:
			t.Fatalf("%s: document %d: unexpected apiVersion %q kind %q", name, i+1, tm.APIVersion, tm.Kind)
		}
		if err := yaml.UnmarshalStrict(doc, obj); err != nil {
			t.Fatalf("%s: document %d (%s): %v", name, i+1, tm.Kind, err)
		}
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			m.configMaps[o.Name] = o
		case *corev1.Secret:
			m.secrets[o.Name] = o
		case *corev1.PersistentVolumeClaim:
			m.claims[o.Name] = o
		case *corev1.Service:
			m.services = append(m.services, o)
		case *appsv1.Deployment:
			m.deployments = append(m.deployments, o)
		case *appsv1.StatefulSet:
			m.statefulSets = append(m.statefulSets, o)
		case *policyv1.PodDisruptionBudget:
			m.budgets = append(m.budgets, o)
		case *monitoringv1.ServiceMonitor:
			m.serviceMonitor = append(m.serviceMonitor, o)
		case *monitoringv1.PrometheusRule:
			m.rules = append(m.rules, o)
		}
	}
	return m
}

// podTemplates returns every pod template of the manifest with its owner's name.
func (m *manifest) podTemplates() map[string]*corev1.PodTemplateSpec {
	out := map[string]*corev1.PodTemplateSpec{}
	for _, d := range m.deployments {
		out["Deployment "+d.Name] = &d.Spec.Template
	}
	for _, s := range m.statefulSets {
		out["StatefulSet "+s.Name] = &s.Spec.Template
	}
	return out
}

// TestManifestsDecodeStrictly checks that each manifest decodes, and that the objects in it
// refer to each other consistently: selectors select, volumes exist, probes exist.
func TestManifestsDecodeStrictly(t *testing.T) {
	for _, name := range manifests {
		t.Run(name, func(t *testing.T) {
			m := decode(t, name)
			if len(m.deployments)+len(m.statefulSets) == 0 {
				t.Fatal("no workload")
			}
			templates := m.podTemplates()
			for owner, tpl := range templates {
				checkVolumes(t, m, owner, &tpl.Spec)
			}
			for _, d := range m.deployments {
				checkSelector(t, "Deployment "+d.Name, d.Spec.Selector, d.Spec.Template.Labels)
			}
			for _, s := range m.statefulSets {
				checkSelector(t, "StatefulSet "+s.Name, s.Spec.Selector, s.Spec.Template.Labels)
			}
			for _, s := range m.services {
				if !selectsAny(labels.SelectorFromSet(s.Spec.Selector), templates) {
					t.Errorf("Service %s selects no pod of the manifest", s.Name)
				}
			}
			for _, b := range m.budgets {
				sel, err := metav1.LabelSelectorAsSelector(b.Spec.Selector)
				if err != nil || !selectsAny(sel, templates) {
					t.Errorf("PodDisruptionBudget %s selects no pod of the manifest (%v)", b.Name, err)
				}
			}
		})
	}
}

func checkSelector(t *testing.T, owner string, sel *metav1.LabelSelector, podLabels map[string]string) {
	t.Helper()
	s, err := metav1.LabelSelectorAsSelector(sel)
	if err != nil || !s.Matches(labels.Set(podLabels)) {
		t.Errorf("%s: selector %v does not match its pod template's labels %v (%v)", owner, sel, podLabels, err)
	}
}

func selectsAny(sel labels.Selector, templates map[string]*corev1.PodTemplateSpec) bool {
	for _, tpl := range templates {
		if !sel.Empty() && sel.Matches(labels.Set(tpl.Labels)) {
			return true
		}
	}
	return false
}

// checkVolumes checks that every mounted volume is declared and that the ConfigMaps,
// Secrets and claims it names are in the manifest.
func checkVolumes(t *testing.T, m *manifest, owner string, pod *corev1.PodSpec) {
	t.Helper()
	declared := map[string]corev1.Volume{}
	for _, v := range pod.Volumes {
		declared[v.Name] = v
		switch {
		case v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] == nil:
			t.Errorf("%s: volume %s names ConfigMap %s, which the manifest lacks", owner, v.Name, v.ConfigMap.Name)
		case v.Secret != nil && m.secrets[v.Secret.SecretName] == nil && !externalSecrets[v.Secret.SecretName]:
			t.Errorf("%s: volume %s names Secret %s, which the manifest lacks", owner, v.Name, v.Secret.SecretName)
		case v.PersistentVolumeClaim != nil && m.claims[v.PersistentVolumeClaim.ClaimName] == nil:
			t.Errorf("%s: volume %s names claim %s, which the manifest lacks", owner, v.Name, v.PersistentVolumeClaim.ClaimName)
		}
		if v.Secret != nil {
			if s := m.secrets[v.Secret.SecretName]; s != nil {
				for _, item := range v.Secret.Items {
					if _, ok := s.Data[item.Key]; !ok {
						t.Errorf("%s: volume %s mounts key %s, which Secret %s lacks", owner, v.Name, item.Key, s.Name)
					}
				}
			}
		}
	}
	claimTemplates := map[string]bool{}
	for _, s := range m.statefulSets {
		for _, c := range s.Spec.VolumeClaimTemplates {
			claimTemplates[c.Name] = true
		}
	}
	for _, c := range pod.Containers {
		for _, vm := range c.VolumeMounts {
			if _, ok := declared[vm.Name]; !ok && !claimTemplates[vm.Name] {
				t.Errorf("%s: container %s mounts volume %s, which is not declared", owner, c.Name, vm.Name)
			}
		}
		for _, e := range c.Env {
			if ref := e.ValueFrom; ref != nil && ref.SecretKeyRef != nil {
				if s := m.secrets[ref.SecretKeyRef.Name]; s == nil || s.Data[ref.SecretKeyRef.Key] == nil {
					t.Errorf("%s: env %s names Secret %s key %s, which the manifest lacks", owner, e.Name, ref.SecretKeyRef.Name, ref.SecretKeyRef.Key)
				}
			}
		}
	}
}

// routerContainer is a router container of a pod template, with its embedded config.
type routerContainer struct {
	owner     string
	pod       *corev1.PodSpec
	container *corev1.Container
	replicas  int32
	config    string // the ConfigMap's config.yaml
}

// routers returns every callback-router container of a manifest.
func routers(t *testing.T, m *manifest) []routerContainer {
	t.Helper()
	var out []routerContainer
	for _, d := range m.deployments {
		pod := &d.Spec.Template.Spec
		for i := range pod.Containers {
			c := &pod.Containers[i]
			if !strings.HasPrefix(c.Image, "callback-router:") {
				continue
			}
			rc := routerContainer{owner: "Deployment " + d.Name, pod: pod, container: c, replicas: 1}
			if d.Spec.Replicas != nil {
				rc.replicas = *d.Spec.Replicas
			}
			for _, v := range pod.Volumes {
				if v.ConfigMap != nil && m.configMaps[v.ConfigMap.Name] != nil && mountPath(c, v.Name) == "/etc/callback-router" {
					rc.config = m.configMaps[v.ConfigMap.Name].Data["config.yaml"]
				}
			}
			if rc.config == "" {
				t.Fatalf("%s: no ConfigMap with config.yaml mounted on /etc/callback-router", rc.owner)
			}
			out = append(out, rc)
		}
	}
	if len(out) == 0 {
		t.Fatalf("%s: no callback-router container", m.name)
	}
	return out
}

func mountPath(c *corev1.Container, volume string) string {
	for _, vm := range c.VolumeMounts {
		if vm.Name == volume {
			return vm.MountPath
		}
	}
	return ""
}

// routerSettings are the keys of an embedded config the pod spec must agree with.
type routerSettings struct {
	Server struct {
		ShutdownTimeout string `json:"shutdown_timeout"`
		DrainGrace      string `json:"drain_grace"`
	} `json:"server"`
	Delivery struct {
		Backend string `json:"backend"`
		Dir     string `json:"dir"`
	} `json:"delivery"`
}

func duration(t *testing.T, key, s string, def time.Duration) time.Duration {
	t.Helper()
	if s == "" {
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		t.Fatalf("%s: %v", key, err)
	}
	return d
}

// TestRouterPods checks what the README promises of every router pod: hardened, probed,
// given resources, a grace period above the drain, and a store that outlives the pod.
func TestRouterPods(t *testing.T) {
	for _, name := range manifests {
		t.Run(name, func(t *testing.T) {
			m := decode(t, name)
			for _, r := range routers(t, m) {
				c, pod := r.container, r.pod
				var set routerSettings
				if err := yaml.Unmarshal([]byte(r.config), &set); err != nil {
					t.Fatalf("%s: config.yaml: %v", r.owner, err)
				}
				// Defaults as in config/defaults.go: shutdown_timeout 15s, drain_grace 1s.
				drain := duration(t, "server.shutdown_timeout", set.Server.ShutdownTimeout, 15*time.Second) +
					duration(t, "server.drain_grace", set.Server.DrainGrace, time.Second)
				grace := time.Duration(30) * time.Second // Kubernetes' default
				if g := pod.TerminationGracePeriodSeconds; g != nil {
					grace = time.Duration(*g) * time.Second
				}
				if grace <= drain {
					t.Errorf("%s: terminationGracePeriodSeconds %s, want above shutdown_timeout + drain_grace = %s", r.owner, grace, drain)
				}
				nonRoot := func(sc *corev1.PodSecurityContext) bool {
					return sc != nil && sc.RunAsNonRoot != nil && *sc.RunAsNonRoot
				}
				sc := c.SecurityContext
				if !nonRoot(pod.SecurityContext) && (sc == nil || sc.RunAsNonRoot == nil || !*sc.RunAsNonRoot) {
					t.Errorf("%s: runAsNonRoot is not set", r.owner)
				}
				switch {
				case sc == nil:
					t.Errorf("%s: container %s has no securityContext", r.owner, c.Name)
				case sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem:
					t.Errorf("%s: readOnlyRootFilesystem is not true", r.owner)
				case sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation:
					t.Errorf("%s: allowPrivilegeEscalation is not false", r.owner)
				case sc.Capabilities == nil || !reflect.DeepEqual(sc.Capabilities.Drop, []corev1.Capability{"ALL"}):
					t.Errorf("%s: capabilities do not drop ALL", r.owner)
				}
				if !seccompRuntimeDefault(pod.SecurityContext, sc) {
					t.Errorf("%s: seccompProfile is not RuntimeDefault (or Localhost)", r.owner)
				}
				if c.LivenessProbe == nil || c.ReadinessProbe == nil {
					t.Errorf("%s: liveness and readiness probes are both needed", r.owner)
				}
				// Liveness asks /healthz: /readyz turns 503 while draining and before the
				// routes load, and a liveness probe on it would kill a router for that.
				if p := c.LivenessProbe; p != nil && !probesPath(p, "/healthz") {
					t.Errorf("%s: liveness probe %+v does not ask /healthz", r.owner, p.ProbeHandler)
				}
				if p := c.ReadinessProbe; p != nil && !probesPath(p, "/readyz") {
					t.Errorf("%s: readiness probe %+v does not ask /readyz", r.owner, p.ProbeHandler)
				}
				// healthcheck without -url loads the mounted config, and fails on one the
				// running router refused: the probe would then take a serving pod away.
				for _, p := range []*corev1.Probe{c.LivenessProbe, c.ReadinessProbe} {
					if p != nil && p.Exec != nil && !slices.Contains(p.Exec.Command, "-url") {
						t.Errorf("%s: exec probe %v does not name its URL (-url)", r.owner, p.Exec.Command)
					}
				}
				if c.Resources.Requests.Cpu().IsZero() || c.Resources.Requests.Memory().IsZero() {
					t.Errorf("%s: cpu and memory requests are both needed", r.owner)
				}
				switch set.Delivery.Backend {
				case "", "bbolt":
					if r.replicas != 1 {
						t.Errorf("%s: %d replicas on one bbolt store; bbolt allows one writer", r.owner, r.replicas)
					}
					if !mountedFromClaim(c, pod, set.Delivery.Dir) {
						t.Errorf("%s: delivery.dir %q is not on a PersistentVolumeClaim", r.owner, set.Delivery.Dir)
					}
				case "jetstream":
					if r.replicas < 2 {
						t.Errorf("%s: %d replicas with jetstream; the point is several", r.owner, r.replicas)
					}
				}
			}
		})
	}
}

// seccompRuntimeDefault tells whether the container runs under a seccomp profile (the
// container's own setting wins over the pod's), as the restricted Pod Security Standard asks.
func seccompRuntimeDefault(pod *corev1.PodSecurityContext, c *corev1.SecurityContext) bool {
	profile := (*corev1.SeccompProfile)(nil)
	if pod != nil {
		profile = pod.SeccompProfile
	}
	if c != nil && c.SeccompProfile != nil {
		profile = c.SeccompProfile
	}
	return profile != nil && (profile.Type == corev1.SeccompProfileTypeRuntimeDefault || profile.Type == corev1.SeccompProfileTypeLocalhost)
}

// probesPath tells whether a probe asks one of paths, by HTTP or through `healthcheck`.
func probesPath(p *corev1.Probe, paths ...string) bool {
	for _, path := range paths {
		if p.HTTPGet != nil && p.HTTPGet.Path == path {
			return true
		}
		if p.Exec != nil && len(p.Exec.Command) >= 2 && p.Exec.Command[1] == "healthcheck" {
			cmd := strings.Join(p.Exec.Command, " ")
			if strings.Contains(cmd, path) || (path == "/readyz" && !strings.Contains(cmd, "-url")) {
				return true
			}
		}
	}
	return false
}

func mountedFromClaim(c *corev1.Container, pod *corev1.PodSpec, dir string) bool {
	for _, v := range pod.Volumes {
		if v.PersistentVolumeClaim != nil && dir != "" && mountPath(c, v.Name) == filepath.Clean(dir) {
			return true
		}
	}
	return false
}

// repoRoot is the repository's top directory.
func repoRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Clean(filepath.Join(filepath.Dir(file), "..", ".."))
}

// TestEmbeddedConfigsValidate lays out each router container's mounted ConfigMaps and
// Secrets the way the kubelet would, under a temporary root, and runs the real
// `callback-router validate` on the config there.
func TestEmbeddedConfigsValidate(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "callback-router")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = repoRoot()
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	for _, name := range manifests {
		t.Run(name, func(t *testing.T) {
			m := decode(t, name)
			for _, r := range routers(t, m) {
				root := t.TempDir()
				config := r.config
				for _, v := range r.pod.Volumes {
					dir := mountPath(r.container, v.Name)
					if dir == "" {
						continue
					}
					files := map[string][]byte{}
					switch {
					case v.ConfigMap != nil:
						for k, val := range m.configMaps[v.ConfigMap.Name].Data {
							files[k] = []byte(val)
						}
					case v.Secret != nil && m.secrets[v.Secret.SecretName] != nil:
						data := m.secrets[v.Secret.SecretName].Data
						if len(v.Secret.Items) == 0 {
							files = data
						}
						for _, item := range v.Secret.Items {
							files[item.Path] = data[item.Key]
						}
					}
					for f, content := range files {
						path := filepath.Join(root, dir, f)
						if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
							t.Fatal(err)
						}
						if err := os.WriteFile(path, content, 0o600); err != nil {
							t.Fatal(err)
						}
					}
					// The config names files by their paths in the container.
					config = strings.ReplaceAll(config, dir+"/", filepath.Join(root, dir)+"/")
				}
				file := filepath.Join(root, "validated.yaml")
				if err := os.WriteFile(file, []byte(config), 0o600); err != nil {
					t.Fatal(err)
				}
				cmd := exec.Command(bin, "validate", "-config", file)
				for _, kv := range os.Environ() {
					if !strings.HasPrefix(kv, "CALLBACK_ROUTER_") {
						cmd.Env = append(cmd.Env, kv)
					}
				}
				for _, e := range r.container.Env {
					if e.Value != "" && e.Name != "CALLBACK_ROUTER_CONFIG" {
						cmd.Env = append(cmd.Env, e.Name+"="+e.Value)
					}
				}
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("%s: callback-router validate: %v\n%s", r.owner, err, out)
				}
			}
		})
	}
}

// generatedMarker starts the part of ha.yaml that -update rewrites.
const generatedMarker = "# Generated from examples/prometheus-alerts.yaml by `go test ./kubernetes -run TestPrometheusRuleMatchesAlerts -update`\n"

// TestPrometheusRuleMatchesAlerts keeps ha.yaml's PrometheusRule equal to
// examples/prometheus-alerts.yaml, rule for rule. With -update it rewrites it first.
func TestPrometheusRuleMatchesAlerts(t *testing.T) {
	alerts, err := os.ReadFile(filepath.Join(repoRoot(), "examples", "prometheus-alerts.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		writeRule(t, alerts)
	}
	var want struct {
		Groups []monitoringv1.RuleGroup `json:"groups"`
	}
	if err := yaml.UnmarshalStrict(alerts, &want); err != nil {
		t.Fatalf("examples/prometheus-alerts.yaml: %v", err)
	}
	m := decode(t, "ha.yaml")
	if len(m.rules) != 1 {
		t.Fatalf("ha.yaml has %d PrometheusRules, want 1", len(m.rules))
	}
	got := m.rules[0].Spec.Groups
	if len(want.Groups) == 0 || !reflect.DeepEqual(got, want.Groups) {
		t.Errorf("ha.yaml's PrometheusRule differs from examples/prometheus-alerts.yaml; regenerate it:\n"+
			"  (cd deploy && go test ./kubernetes -run TestPrometheusRuleMatchesAlerts -update)\ngot  %+v\nwant %+v", got, want.Groups)
	}
}

// writeRule replaces everything from generatedMarker on in ha.yaml with a PrometheusRule
// holding the alert file's groups, comments and all.
func writeRule(t *testing.T, alerts []byte) {
	t.Helper()
	ha, err := os.ReadFile("ha.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if i := bytes.Index(ha, []byte(generatedMarker)); i >= 0 {
		ha = ha[:i]
	} else {
		ha = append(bytes.TrimRight(ha, "\n"), "\n---\n"...)
	}
	at := bytes.Index(alerts, []byte("\ngroups:"))
	if at < 0 {
		t.Fatal("examples/prometheus-alerts.yaml has no top-level groups:")
	}
	var b bytes.Buffer
	b.Write(ha)
	b.WriteString(generatedMarker)
	b.WriteString("# Edit the alerts there, not here.\n")
	fmt.Fprint(&b, "apiVersion: monitoring.coreos.com/v1\nkind: PrometheusRule\nmetadata:\n  name: callback-router\n  labels: {app.kubernetes.io/name: callback-router-ha}\nspec:\n")
	for _, line := range strings.SplitAfter(string(alerts[at+1:]), "\n") {
		if strings.TrimSpace(line) == "" {
			b.WriteString(line)
			continue
		}
		b.WriteString("  " + line)
	}
	if err := os.WriteFile("ha.yaml", b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestSecretsAreBase64 checks the Secrets: data, not stringData, and values encoded once.
func TestSecretsAreBase64(t *testing.T) {
	for _, name := range manifests {
		m := decode(t, name)
		for _, s := range m.secrets {
			if len(s.StringData) > 0 {
				t.Errorf("%s: Secret %s uses stringData; use data (podman kube play mounts no file for stringData)", name, s.Name)
			}
			for k, v := range s.Data {
				// The API type decoded the base64; what remains must not be base64 again
				// (a value encoded twice would hand the router the encoding as its token).
				if len(bytes.TrimSpace(v)) == 0 {
					t.Errorf("%s: Secret %s key %s is empty", name, s.Name, k)
				} else if _, err := base64.StdEncoding.DecodeString(strings.TrimSpace(string(v))); err == nil && len(v) >= 16 {
					t.Errorf("%s: Secret %s key %s looks base64-encoded twice", name, s.Name, k)
				}
			}
		}
	}
}
