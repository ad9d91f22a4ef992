package labfiles

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// TestKindConfigWithMirror: without a mirror the config is the seed's (with
// the cgroup patch when asked); with one, each node gains the mount and the
// config ends with the containerd patch; a relative or quoted hosts path is
// refused rather than written into YAML.
func TestKindConfigWithMirror(t *testing.T) {
	for _, c := range cluster.Names() {
		for _, v1 := range []bool{false, true} {
			plain, err := KindConfig(c, v1)
			if err != nil {
				t.Fatal(err)
			}
			same, err := KindConfigWith(c, KindOptions{CgroupV1: v1})
			if err != nil || !bytes.Equal(same, plain) {
				t.Errorf("%s v1=%v: without a mirror the config changed (%v)", c, v1, err)
			}
			with, err := KindConfigWith(c, KindOptions{CgroupV1: v1, MirrorHosts: "/lab/containerd-certs.d"})
			if err != nil {
				t.Fatal(err)
			}
			if n := strings.Count(string(with), "containerPath: /etc/containerd/certs.d"); n != 3 {
				t.Errorf("%s: %d mounts, want one per node (3):\n%s", c, n, with)
			}
			if !strings.HasSuffix(string(with), mirrorPatch) || strings.Contains(string(with), cgroupV1Patch) != v1 {
				t.Errorf("%s v1=%v: patches wrong:\n%s", c, v1, with)
			}
		}
		for _, bad := range []string{"containerd-certs.d", `/lab/"x`} {
			if _, err := KindConfigWith(c, KindOptions{MirrorHosts: bad}); err == nil {
				t.Errorf("hosts path %q accepted", bad)
			}
		}
	}
}

// TestWriteMirrorHosts writes one hosts.toml per mirrored registry, the
// mirror before the registry itself, and again without change on resume.
func TestWriteMirrorHosts(t *testing.T) {
	dir := t.TempDir()
	root, err := WriteMirrorHosts(dir, "https://mirror.example")
	if err != nil {
		t.Fatal(err)
	}
	if root != filepath.Join(dir, MirrorHostsDir) {
		t.Errorf("root %s", root)
	}
	for _, r := range MirroredRegistries {
		b, err := os.ReadFile(filepath.Join(root, r.Host, "hosts.toml"))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, HostsTOML(r.Server, "https://mirror.example")) {
			t.Errorf("%s:\n%s", r.Host, b)
		}
	}
	if _, err := WriteMirrorHosts(dir, "https://mirror.example"); err != nil {
		t.Fatal(err)
	}
}
