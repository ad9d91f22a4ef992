package real

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// TestRegistryMirrorKindConfig creates both clusters with a mirror and
// reads what kind got with kind's own types: every node mounts the lab's
// hosts directory as containerd's, containerd is told to read it, and the
// hosts files send docker.io and quay.io through the mirror; on cgroup v1
// the kubelet patch is still there. Without a mirror, none of it.
func TestRegistryMirrorKindConfig(t *testing.T) {
	const mirror = "http://10.0.0.5:5000"
	for _, v1 := range []bool{false, true} {
		fk := &fakeKind{}
		tb := newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
			o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) { return fk, nil }
			o.RegistryMirror = mirror
			o.Engine = func(context.Context) (doctor.Engine, error) {
				return doctor.Engine{Name: "docker", CgroupVersion: map[bool]string{true: "1", false: "2"}[v1]}, nil
			}
		})
		log := &lines{}
		if err := tb.WriteLabFiles(context.Background()); err != nil {
			t.Fatal(err)
		}
		hosts := filepath.Join(tb.dir, labfiles.MirrorHostsDir)
		for _, c := range cluster.Names() {
			if err := tb.CreateCluster(context.Background(), c, log); err != nil {
				t.Fatal(err)
			}
			raw := fk.specs[string(c)].Config
			onDisk, _ := os.ReadFile(filepath.Join(tb.dir, labfiles.KindConfigFile(c)))
			if string(onDisk) != string(raw) {
				t.Errorf("%s: kind got another config than the lab directory's", c)
			}
			cfg, err := DecodeKindConfig(c, raw)
			if err != nil {
				t.Fatalf("%v\n%s", err, raw)
			}
			if len(cfg.Nodes) != 3 {
				t.Fatalf("%s: %d nodes", c, len(cfg.Nodes))
			}
			for i, n := range cfg.Nodes {
				if len(n.ExtraMounts) != 1 || n.ExtraMounts[0].HostPath != hosts || n.ExtraMounts[0].ContainerPath != "/etc/containerd/certs.d" || !n.ExtraMounts[0].Readonly {
					t.Errorf("%s node %d (%s) mounts %+v, want %s read-only at /etc/containerd/certs.d", c, i, n.Role, n.ExtraMounts, hosts)
				}
			}
			if c == cluster.US && len(cfg.Nodes[0].ExtraPortMappings) != 3 {
				t.Errorf("the seed's port mappings are gone: %+v", cfg.Nodes[0])
			}
			if len(cfg.ContainerdConfigPatches) != 1 || !strings.Contains(cfg.ContainerdConfigPatches[0], `[plugins."io.containerd.grpc.v1.cri".registry]`) || !strings.Contains(cfg.ContainerdConfigPatches[0], `config_path = "/etc/containerd/certs.d"`) {
				t.Errorf("%s: containerd patches %q", c, cfg.ContainerdConfigPatches)
			}
			if got := len(cfg.KubeadmConfigPatches) == 1; got != v1 {
				t.Errorf("%s cgroup v1=%v: kubeadm patches %q", c, v1, cfg.KubeadmConfigPatches)
			}
		}
		for _, r := range labfiles.MirroredRegistries {
			b, err := os.ReadFile(filepath.Join(hosts, r.Host, "hosts.toml"))
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range []string{`server = "` + r.Server + `"`, `[host."` + mirror + `"]`, `capabilities = ["pull", "resolve"]`} {
				if !strings.Contains(string(b), want) {
					t.Errorf("%s hosts.toml lacks %s:\n%s", r.Host, want, b)
				}
			}
		}
		if !log.has("pull docker.io and quay.io images through " + mirror) {
			t.Errorf("log:\n%s", log)
		}
	}

	fk := &fakeKind{}
	tb := newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) { return fk, nil }
	})
	if err := tb.CreateCluster(context.Background(), cluster.EU, &lines{}); err != nil {
		t.Fatal(err)
	}
	cfg, err := DecodeKindConfig(cluster.EU, fk.specs["eu"].Config)
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.ContainerdConfigPatches) != 0 || len(cfg.Nodes[0].ExtraMounts) != 0 {
		t.Errorf("without a mirror: %+v", cfg)
	}
	if _, err := os.Stat(filepath.Join(tb.dir, labfiles.MirrorHostsDir)); !os.IsNotExist(err) {
		t.Errorf("without a mirror, a hosts directory: %v", err)
	}
}
