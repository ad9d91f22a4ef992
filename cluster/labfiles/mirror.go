package labfiles

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// KindOptions are what the lab adds to the seed's kind configurations.
type KindOptions struct {
	// CgroupV1 adds the kubelet patch a cgroup v1 host needs.
	CgroupV1 bool
	// MirrorHosts is the absolute path of a containerd registry hosts
	// directory (WriteMirrorHosts) to mount into every node as
	// /etc/containerd/certs.d; "" means no mirror.
	MirrorHosts string
}

// MirrorHostsDir is the lab directory's containerd hosts directory.
const MirrorHostsDir = "containerd-certs.d"

// nodeCertsDir is where containerd looks for registry hosts once the
// kind config's patch sets config_path.
const nodeCertsDir = "/etc/containerd/certs.d"

// MirroredRegistries are the registries the lab's images come from, which
// --registry-mirror sends through the mirror, with their upstream servers.
var MirroredRegistries = []struct{ Host, Server string }{
	{"docker.io", "https://registry-1.docker.io"},
	{"quay.io", "https://quay.io"},
}

// mirrorPatch points kind's containerd at registry hosts files (the
// hosts.toml way, which containerd 2 keeps; the older registry.mirrors
// table cannot be set beside config_path). kind v0.33's node config is
// version 2, whose CRI plugin is io.containerd.grpc.v1.cri.
const mirrorPatch = `# Added by clustermesh-lab (--registry-mirror): containerd reads registry hosts
# from /etc/containerd/certs.d, mounted into every node from the lab directory,
# so that docker.io and quay.io are pulled through the workshop's mirror.
containerdConfigPatches:
  - |-
    [plugins."io.containerd.grpc.v1.cri".registry]
      config_path = "` + nodeCertsDir + `"
`

// KindConfigWith is c's kind configuration with the lab's additions.
func KindConfigWith(c cluster.Name, o KindOptions) ([]byte, error) {
	raw, err := KindConfig(c, o.CgroupV1)
	if err != nil || o.MirrorHosts == "" {
		return raw, err
	}
	if !filepath.IsAbs(o.MirrorHosts) || strings.ContainsAny(o.MirrorHosts, "\"\n\\") {
		return nil, fmt.Errorf("the registry hosts directory %q must be an absolute path without quotes", o.MirrorHosts)
	}
	mount := fmt.Sprintf("    extraMounts:\n      - hostPath: %q\n        containerPath: %s\n        readOnly: true\n", o.MirrorHosts, nodeCertsDir)
	var out bytes.Buffer
	nodes := 0
	for line := range strings.Lines(string(raw)) {
		out.WriteString(line)
		if strings.HasPrefix(line, "  - role: ") {
			if !strings.HasSuffix(line, "\n") {
				out.WriteByte('\n')
			}
			out.WriteString(mount)
			nodes++
		}
	}
	if nodes == 0 {
		return nil, fmt.Errorf("the kind config of %s lists no nodes to mount the registry hosts into", c)
	}
	if !bytes.HasSuffix(out.Bytes(), []byte("\n")) {
		out.WriteByte('\n')
	}
	out.WriteString(mirrorPatch)
	return out.Bytes(), nil
}

// WriteKindConfigWith writes c's kind configuration, with the lab's
// additions, into dir and returns what it wrote.
func WriteKindConfigWith(dir string, c cluster.Name, o KindOptions) ([]byte, error) {
	data, err := KindConfigWith(c, o)
	if err != nil {
		return nil, err
	}
	return data, writeIfChanged(filepath.Join(dir, KindConfigFile(c)), data)
}

// HostsTOML is containerd's hosts.toml for one registry through a mirror:
// the mirror first, the registry itself when the mirror fails.
func HostsTOML(server, mirror string) []byte {
	return fmt.Appendf(nil, `# Written by clustermesh-lab (--registry-mirror).
server = %q

[host.%q]
  capabilities = ["pull", "resolve"]
`, server, mirror)
}

// WriteMirrorHosts writes a hosts.toml for each of MirroredRegistries
// under dir/containerd-certs.d and returns that directory's absolute path.
func WriteMirrorHosts(dir, mirror string) (string, error) {
	root, err := filepath.Abs(filepath.Join(dir, MirrorHostsDir))
	if err != nil {
		return "", err
	}
	for _, r := range MirroredRegistries {
		if err := os.MkdirAll(filepath.Join(root, r.Host), 0o755); err != nil {
			return "", err
		}
		if err := writeIfChanged(filepath.Join(root, r.Host, "hosts.toml"), HostsTOML(r.Server, mirror)); err != nil {
			return "", err
		}
	}
	return root, nil
}
