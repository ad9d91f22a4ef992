package labfiles

import (
	"bytes"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// The files the seed's commands name. Both backends write them into the lab
// directory under the seed's names, so that every command the lab shows
// works as typed there: `kind create cluster --config kind-us-cluster.yaml`,
// `kubectl apply -f deployment-us.yaml`, `export KUBECONFIG=./kubeconfig-us.yaml`.

// KindConfigFile is the seed's name of c's kind configuration: kind-us-cluster.yaml.
func KindConfigFile(c cluster.Name) string { return "kind-" + string(c) + "-cluster.yaml" }

// DemoFile is the seed's name of c's demo manifests: deployment-us.yaml.
func DemoFile(c cluster.Name) string { return "deployment-" + string(c) + ".yaml" }

// KubeconfigFile is the lab's kubeconfig of c, as in the seed: kubeconfig-us.yaml.
func KubeconfigFile(c cluster.Name) string { return "kubeconfig-" + string(c) + ".yaml" }

// MergedKubeconfig holds both contexts, as the seed's
// `kubectl config view --flatten > merged-kubeconfig.yaml` makes it.
const MergedKubeconfig = "merged-kubeconfig.yaml"

// cgroupV1Patch is what a kind configuration needs on a cgroup v1 (or
// hybrid) host: kubelet 1.35 refuses to start there unless failCgroupV1 is
// false, and kind v0.33 does not set it (shared/CILIUM.md, "Versions").
// With one entry at the cluster level it applies to every node.
const cgroupV1Patch = `# Added by clustermesh-lab: the container engine runs on cgroup v1, which
# kubelet 1.35 refuses to start on unless failCgroupV1 is false.
kubeadmConfigPatches:
  - |
    kind: KubeletConfiguration
    failCgroupV1: false
`

// KindConfig is c's kind configuration as the lab writes it and gives kind:
// the seed's, with the kubelet patch for a cgroup v1 host when cgroupV1 is set.
func KindConfig(c cluster.Name, cgroupV1 bool) ([]byte, error) {
	raw, err := assets.KindConfig(string(c))
	if err != nil {
		return nil, err
	}
	if !cgroupV1 {
		return raw, nil
	}
	out := bytes.Clone(raw)
	if !bytes.HasSuffix(out, []byte("\n")) {
		out = append(out, '\n')
	}
	return append(out, cgroupV1Patch...), nil
}

// WriteKindConfig writes c's kind configuration into dir and returns what
// it wrote, so that kind gets exactly the file the learner sees.
func WriteKindConfig(dir string, c cluster.Name, cgroupV1 bool) ([]byte, error) {
	data, err := KindConfig(c, cgroupV1)
	if err != nil {
		return nil, err
	}
	return data, writeIfChanged(filepath.Join(dir, KindConfigFile(c)), data)
}

// WriteSeedFiles writes both clusters' kind configurations and demo
// manifests into dir under the seed's names.
func WriteSeedFiles(dir string, cgroupV1 bool) error {
	for _, c := range cluster.Names() {
		if _, err := WriteKindConfig(dir, c, cgroupV1); err != nil {
			return err
		}
		demo, err := assets.DemoManifests(string(c))
		if err != nil {
			return err
		}
		if err := writeIfChanged(filepath.Join(dir, DemoFile(c)), demo); err != nil {
			return err
		}
	}
	return nil
}

// writeIfChanged writes a learner-facing file (readable, mode 0644) unless
// it already holds data, so that resuming a lab leaves its files alone.
func writeIfChanged(path string, data []byte) error {
	if cur, err := os.ReadFile(path); err == nil && bytes.Equal(cur, data) {
		return nil
	}
	return WriteAtomic(path, data, 0o644)
}

// WriteMergedKubeconfig rewrites merged-kubeconfig.yaml in dir from the
// per-cluster kubeconfigs present, as `KUBECONFIG=./kubeconfig-us.yaml:./kubeconfig-eu.yaml
// kubectl config view --flatten` would, and removes it when there is none.
// The caller serialises writes to dir's kubeconfigs.
func WriteMergedKubeconfig(dir string) error {
	merged := clientcmdapi.NewConfig()
	for _, c := range cluster.Names() {
		path := filepath.Join(dir, KubeconfigFile(c))
		cfg, err := clientcmd.LoadFromFile(path)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("read %s: %w", path, err)
		}
		maps.Copy(merged.Clusters, cfg.Clusters)
		maps.Copy(merged.AuthInfos, cfg.AuthInfos)
		maps.Copy(merged.Contexts, cfg.Contexts)
		if merged.CurrentContext == "" {
			merged.CurrentContext = cfg.CurrentContext
		}
	}
	path := filepath.Join(dir, MergedKubeconfig)
	if len(merged.Contexts) == 0 {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		return nil
	}
	if err := clientcmdapi.FlattenConfig(merged); err != nil {
		return err
	}
	data, err := clientcmd.Write(*merged)
	if err != nil {
		return err
	}
	return WriteAtomic(path, data, 0o600)
}
