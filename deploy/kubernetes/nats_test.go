package kubernetes

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nats-io/nats-server/v2/server"
	corev1 "k8s.io/api/core/v1"
)

// TestNATSConfig parses the NATS config ha.yaml mounts with nats-server's own parser, with
// the environment the StatefulSet gives it, and checks that a pod leaves the cluster in lame
// duck mode within its grace period: nats-server enters it on SIGUSR2 only (SIGTERM shuts it
// down at once), so the preStop hook must signal it through the pid file the config writes.
func TestNATSConfig(t *testing.T) {
	m := decode(t, "ha.yaml")
	if len(m.statefulSets) != 1 {
		t.Fatalf("ha.yaml has %d StatefulSets, want the NATS one", len(m.statefulSets))
	}
	sts := m.statefulSets[0]
	pod := &sts.Spec.Template.Spec
	var nats *corev1.Container
	for i := range pod.Containers {
		if pod.Containers[i].Name == "nats" {
			nats = &pod.Containers[i]
		}
	}
	if nats == nil {
		t.Fatal("StatefulSet nats has no container named nats")
	}
	var conf string
	for _, v := range pod.Volumes {
		if v.ConfigMap != nil && mountPath(nats, v.Name) == "/etc/nats" {
			conf = m.configMaps[v.ConfigMap.Name].Data["nats.conf"]
		}
	}
	if conf == "" {
		t.Fatal("no ConfigMap with nats.conf mounted on /etc/nats")
	}
	for _, e := range nats.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == "metadata.name" {
			t.Setenv(e.Name, sts.Name+"-0")
		}
	}
	file := filepath.Join(t.TempDir(), "nats.conf")
	if err := os.WriteFile(file, []byte(conf), 0o600); err != nil {
		t.Fatal(err)
	}
	opts, err := server.ProcessConfigFile(file)
	if err != nil {
		t.Fatalf("nats.conf: %v", err)
	}
	if !opts.JetStream || opts.Cluster.Name == "" || len(opts.Routes) != int(*sts.Spec.Replicas) {
		t.Errorf("nats.conf: JetStream %v, cluster %q with %d routes; want JetStream in a cluster routing to all %d nodes",
			opts.JetStream, opts.Cluster.Name, len(opts.Routes), *sts.Spec.Replicas)
	}

	// Lame duck: the preStop hook signals it, through the pid file, on a writable volume.
	hook := nats.Lifecycle
	if hook == nil || hook.PreStop == nil || hook.PreStop.Exec == nil {
		t.Fatal("the nats container has no preStop exec hook: SIGTERM alone shuts the node down without lame duck mode")
	}
	want := "--signal ldm=" + opts.PidFile
	if cmd := strings.Join(hook.PreStop.Exec.Command, " "); opts.PidFile == "" || !strings.HasSuffix(cmd, want) {
		t.Errorf("preStop runs %q, want it to end in %q (the config's pid_file)", cmd, want)
	}
	if dir := filepath.Dir(opts.PidFile); !mountedWritable(nats, dir) {
		t.Errorf("pid_file %s: %s is not a writable volume of the container (its root filesystem is read-only)", opts.PidFile, dir)
	}
	grace := time.Duration(*pod.TerminationGracePeriodSeconds) * time.Second
	if need := opts.LameDuckGracePeriod + opts.LameDuckDuration; grace <= need {
		t.Errorf("terminationGracePeriodSeconds %s, want above lame_duck_grace_period + lame_duck_duration = %s", grace, need)
	}
}

// mountedWritable tells whether dir is the mount path of a writable volume of the container.
func mountedWritable(c *corev1.Container, dir string) bool {
	for _, vm := range c.VolumeMounts {
		if vm.MountPath == dir && !vm.ReadOnly {
			return true
		}
	}
	return false
}
