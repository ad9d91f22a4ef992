package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"

	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// The simulated mesh keeps the same files in the lab directory as the real
// backend, so that the commands the lab shows name files that exist on
// both: the seed's kind configs and demo manifests, and the kubeconfigs
// kind would write. Without a directory (Options.Dir empty) it writes none.

// WriteLabFiles writes the seed's kind configs and demo manifests into the
// lab directory: the seed's as they are, or with the kubelet's cgroup v1
// patch when Options.CgroupV1 says so; never from the machine, so a
// simulated run is the same everywhere.
func (b *Backend) WriteLabFiles(ctx context.Context) error {
	if b.opts.Dir == "" {
		return nil
	}
	return labfiles.WriteSeedFiles(b.opts.Dir, b.opts.CgroupV1)
}

// simulatedServer is the API server address in a simulated cluster's
// kubeconfig: the .invalid domain never resolves (RFC 6761), so kubectl
// says at once that it cannot reach the cluster instead of reaching
// another one.
func simulatedServer(c cluster.Name) string {
	return "https://" + string(c) + "-control-plane.simulated.invalid:6443"
}

// kubeconfigNote heads a simulated kubeconfig, for a learner who opens it.
const kubeconfigNote = "# Written by clustermesh-lab's simulated mesh (--backend sim): the cluster exists only\n" +
	"# inside clustermesh-lab, so kubectl cannot reach it; the real lab (--backend kind)\n" +
	"# writes kind's kubeconfig here instead.\n"

// writeKubeconfig writes kubeconfig-<c>.yaml with context kind-<c>, as kind
// writes it, and the merged kubeconfig.
func (b *Backend) writeKubeconfig(c cluster.Name) error {
	if b.opts.Dir == "" {
		return nil
	}
	cfg := clientcmdapi.NewConfig()
	name := c.Context()
	cfg.Clusters[name] = &clientcmdapi.Cluster{Server: simulatedServer(c)}
	cfg.AuthInfos[name] = &clientcmdapi.AuthInfo{}
	cfg.Contexts[name] = &clientcmdapi.Context{Cluster: name, AuthInfo: name}
	cfg.CurrentContext = name
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return fmt.Errorf("write the simulated kubeconfig of %s: %w", c, err)
	}
	b.filesMu.Lock()
	defer b.filesMu.Unlock()
	if err := labfiles.WriteAtomic(filepath.Join(b.opts.Dir, labfiles.KubeconfigFile(c)), append([]byte(kubeconfigNote), data...), 0o600); err != nil {
		return err
	}
	return labfiles.WriteMergedKubeconfig(b.opts.Dir)
}

// removeKubeconfig drops c's kubeconfig after the cluster is deleted, as
// the real backend does.
func (b *Backend) removeKubeconfig(c cluster.Name) error {
	if b.opts.Dir == "" {
		return nil
	}
	b.filesMu.Lock()
	defer b.filesMu.Unlock()
	if err := os.Remove(filepath.Join(b.opts.Dir, labfiles.KubeconfigFile(c))); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return labfiles.WriteMergedKubeconfig(b.opts.Dir)
}
