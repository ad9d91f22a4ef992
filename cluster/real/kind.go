package real

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	yaml "go.yaml.in/yaml/v3"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// KindProvider is the part of kind's cluster.Provider the backend uses.
type KindProvider interface {
	Create(name string, spec CreateSpec) error
	Delete(name, explicitKubeconfigPath string) error
	List() ([]string, error)
	KubeConfig(name string, internal bool) (string, error)
}

// CreateSpec is what `kind create cluster --name N --image IMAGE --config
// FILE` gives kind: the content of the kind config file in the lab
// directory (the very bytes the learner sees), the node image, and the
// kubeconfig kind writes.
type CreateSpec struct {
	Config     []byte
	NodeImage  string
	Kubeconfig string
}

// kindLibrary is kind's own provider behind KindProvider.
type kindLibrary struct{ *kindcluster.Provider }

// Create creates the cluster as the kind CLI does with --image and
// --config, without kind's usage and salutation lines.
func (k kindLibrary) Create(name string, spec CreateSpec) error {
	return k.Provider.Create(name,
		kindcluster.CreateWithRawConfig(spec.Config),
		kindcluster.CreateWithNodeImage(spec.NodeImage),
		kindcluster.CreateWithKubeconfigPath(spec.Kubeconfig),
		kindcluster.CreateWithDisplayUsage(false),
		kindcluster.CreateWithDisplaySalutation(false),
	)
}

// KindFactory builds a kind provider whose progress goes to log.
type KindFactory func(ctx context.Context, log cluster.Logger) (KindProvider, error)

// recordFile lists the kind clusters this lab created: only those are ever
// reused or deleted.
const recordFile = "kind-clusters.json"

func (b *Backend) kubeconfigPath(c cluster.Name) string {
	return filepath.Join(b.opts.Dir, labfiles.KubeconfigFile(c))
}

// kubeconfigHintPath is the kubeconfig to name in advice about c.
func (b *Backend) kubeconfigHintPath(c cluster.Name) string {
	if k, ok := b.external(c); ok {
		if k.Path == "" {
			return "~/.kube/config"
		}
		return k.Path
	}
	return b.kubeconfigPath(c)
}

// DecodeKindConfig decodes a kind configuration of c with kind's own
// v1alpha4 types, strictly as kind does, and names the cluster; the
// backend checks the file it wrote with it before giving it to kind.
func DecodeKindConfig(c cluster.Name, raw []byte) (*v1alpha4.Cluster, error) {
	cfg := &v1alpha4.Cluster{}
	dec := yaml.NewDecoder(bytes.NewReader(raw))
	dec.KnownFields(true)
	if err := dec.Decode(cfg); err != nil {
		return nil, fmt.Errorf("decode the kind config of %s: %w", c, err)
	}
	if cfg.Kind != "Cluster" || cfg.APIVersion != "kind.x-k8s.io/v1alpha4" {
		return nil, fmt.Errorf("the kind config of %s is %s %s, want kind.x-k8s.io/v1alpha4 Cluster", c, cfg.APIVersion, cfg.Kind)
	}
	cfg.Name = string(c)
	return cfg, nil
}

// record is what the lab remembers about the kind clusters it created.
type record struct {
	Clusters map[cluster.Name]recordEntry `json:"clusters"`
}

type recordEntry struct {
	Created time.Time `json:"created"`
	// Complete is false while kind creates the cluster: a crash leaves a
	// half-created cluster, which the next create replaces.
	Complete bool `json:"complete"`
	// Preloaded is set once the lab's images were loaded into every node
	// (Options.Preload): a create step retried after a failed preload
	// reuses the cluster and still loads them.
	Preloaded bool `json:"preloaded,omitempty"`
}

func (b *Backend) readRecord() (record, error) {
	r := record{Clusters: map[cluster.Name]recordEntry{}}
	data, err := os.ReadFile(filepath.Join(b.opts.Dir, recordFile))
	if errors.Is(err, os.ErrNotExist) {
		return r, nil
	}
	if err != nil {
		return r, fmt.Errorf("read %s: %w", recordFile, err)
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return r, cluster.WithHint(fmt.Errorf("lab directory %s: %s is corrupt: %w (%w)", b.opts.Dir, recordFile, err, ErrCorruptRecord),
			"start a new lab directory (delete leftover clusters with `kind delete cluster --name us` / `--name eu`)")
	}
	if r.Clusters == nil {
		r.Clusters = map[cluster.Name]recordEntry{}
	}
	return r, nil
}

// updateRecord changes the record under the lock and saves it atomically.
func (b *Backend) updateRecord(fn func(r *record)) error {
	b.recordMu.Lock()
	defer b.recordMu.Unlock()
	r, err := b.readRecord()
	if err != nil {
		return err
	}
	fn(&r)
	data, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	return labfiles.WriteAtomic(filepath.Join(b.opts.Dir, recordFile), append(data, '\n'), 0o600)
}

func (b *Backend) recorded(c cluster.Name) (recordEntry, bool, error) {
	b.recordMu.Lock()
	defer b.recordMu.Unlock()
	r, err := b.readRecord()
	if err != nil {
		return recordEntry{}, false, err
	}
	e, ok := r.Clusters[c]
	return e, ok, nil
}

// kindProvider builds a kind provider logging to log.
func (b *Backend) kindProvider(ctx context.Context, log cluster.Logger) (KindProvider, error) {
	if b.opts.Kind != nil {
		return b.opts.Kind(ctx, log)
	}
	routeLibraryLogs(b.diag)
	eng, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	engine := kindcluster.ProviderWithDocker()
	if eng.Name == "podman" {
		engine = kindcluster.ProviderWithPodman()
	}
	return kindLibrary{kindcluster.NewProvider(kindcluster.ProviderWithLogger(kindLogger{step: log, diag: b.diag}), engine)}, nil
}

// engine detects the container engine once, as the kind CLI does (the
// library alone ignores KIND_EXPERIMENTAL_PROVIDER); its cgroup version
// decides the kind configs' kubelet patch. A failed detection is not
// remembered, so starting the engine and retrying works.
func (b *Backend) engine(ctx context.Context) (doctor.Engine, error) {
	b.engineMu.Lock()
	defer b.engineMu.Unlock()
	if b.engineFound != nil {
		return *b.engineFound, nil
	}
	detect := b.opts.Engine
	if detect == nil {
		detect = func(ctx context.Context) (doctor.Engine, error) { return doctor.DetectEngine(ctx, doctor.SystemEnv()) }
	}
	eng, err := detect(ctx)
	if err != nil {
		return eng, fmt.Errorf("kind needs a container engine: %w", err)
	}
	b.engineFound = &eng
	return eng, nil
}

// NodeImage is the kind node image the backend creates clusters with.
func (b *Backend) NodeImage() string {
	if b.opts.NodeImage != "" {
		return b.opts.NodeImage
	}
	return cluster.DefaultNodeImage
}

// WriteLabFiles writes the seed's kind configs and demo manifests into the
// lab directory, with the kubelet patch when the container engine runs on
// cgroup v1. Where no engine answers (or the learner brings both clusters)
// it writes the seed's configs as they are; creating a cluster writes its
// config again from what the engine reports.
func (b *Backend) WriteLabFiles(ctx context.Context) error {
	cgroupV1 := false
	if len(b.opts.External) < len(cluster.Names()) {
		if eng, err := b.engine(ctx); err == nil {
			cgroupV1 = eng.CgroupV1()
		}
	}
	if err := labfiles.WriteSeedFiles(b.opts.Dir, cgroupV1); err != nil || b.opts.RegistryMirror == "" {
		return err
	}
	for _, c := range cluster.Names() {
		if _, err := b.writeKindConfig(c, cgroupV1); err != nil {
			return err
		}
	}
	return nil
}

// writeKindConfig writes c's kind config with the lab's additions: the
// kubelet patch on cgroup v1, the registry mirror's hosts when there is one.
func (b *Backend) writeKindConfig(c cluster.Name, cgroupV1 bool) ([]byte, error) {
	o := labfiles.KindOptions{CgroupV1: cgroupV1}
	if b.opts.RegistryMirror != "" {
		dir, err := labfiles.WriteMirrorHosts(b.opts.Dir, b.opts.RegistryMirror)
		if err != nil {
			return nil, fmt.Errorf("write the registry mirror's hosts: %w", err)
		}
		o.MirrorHosts = dir
	}
	return labfiles.WriteKindConfigWith(b.opts.Dir, c, o)
}

// kindConfigFor writes c's kind config for the engine kind will use and
// returns its bytes, decoded strictly first so that a broken file fails
// here rather than inside kind.
func (b *Backend) kindConfigFor(ctx context.Context, c cluster.Name, log cluster.Logger) ([]byte, error) {
	eng, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	raw, err := b.writeKindConfig(c, eng.CgroupV1())
	if err != nil {
		return nil, err
	}
	if _, err := DecodeKindConfig(c, raw); err != nil {
		return nil, err
	}
	if eng.CgroupV1() {
		log.Logf("The %s engine runs on cgroup v1, which kubelet 1.35 refuses by default: %s sets failCgroupV1: false for the kubelet (kubeadmConfigPatches)", eng.Name, labfiles.KindConfigFile(c))
	}
	if b.opts.RegistryMirror != "" {
		log.Logf("The nodes pull docker.io and quay.io images through %s: %s mounts %s as containerd's registry hosts", b.opts.RegistryMirror, labfiles.KindConfigFile(c), labfiles.MirrorHostsDir)
	}
	return raw, nil
}

// kindCluster is what creating and deleting c both need to know first: the
// provider, whether kind has a cluster of that name, and whether this lab
// recorded creating it.
func (b *Backend) kindCluster(ctx context.Context, c cluster.Name, log cluster.Logger) (p KindProvider, exists bool, entry recordEntry, ours bool, err error) {
	if p, err = b.kindProvider(ctx, log); err != nil {
		return nil, false, entry, false, err
	}
	names, err := p.List()
	if err != nil {
		return nil, false, entry, false, cluster.WithHint(fmt.Errorf("list kind clusters: %w", err), "check that the container engine runs: clustermesh-lab doctor")
	}
	if entry, ours, err = b.recorded(c); err != nil {
		return nil, false, entry, false, err
	}
	return p, slices.Contains(names, string(c)), entry, ours, nil
}

// CreateCluster creates c with kind from the seed's configuration, reuses
// it when this lab created it, or, for a cluster the learner brings, checks
// that it answers and can be used.
func (b *Backend) CreateCluster(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	if k, ok := b.external(c); ok {
		return b.useExternal(ctx, c, k, log)
	}
	p, exists, entry, ours, err := b.kindCluster(ctx, c, log)
	if err != nil {
		return err
	}
	if exists {
		switch {
		case !ours:
			return cluster.WithHint(fmt.Errorf("a kind cluster named %q already exists and this lab did not create it (%w)", c, ErrForeignCluster),
				fmt.Sprintf("if you no longer need it, delete it with `kind delete cluster --name %s`; or give the lab its kubeconfig and context %s to use it as it is", c, c.Context()))
		case entry.Complete:
			log.Logf("Cluster %q already exists (created by this lab on %s): reusing it", c, entry.Created.Local().Format(time.DateTime))
			if err := b.writeKubeconfigs(c, p); err != nil {
				return err
			}
			if b.preloading() && !entry.Preloaded {
				return b.preloadRecorded(ctx, c, p, log)
			}
			return nil
		}
		log.Logf("Found a half-created cluster %q from an interrupted run: deleting it first", c)
		if err := p.Delete(string(c), b.kubeconfigPath(c)); err != nil {
			return cluster.WithHint(fmt.Errorf("delete the half-created cluster %s: %w", c, err), fmt.Sprintf("delete it with `kind delete cluster --name %s`, then retry", c))
		}
	}
	raw, err := b.kindConfigFor(ctx, c, log)
	if err != nil {
		return err
	}
	if err := b.updateRecord(func(r *record) { r.Clusters[c] = recordEntry{Created: time.Now().UTC()} }); err != nil {
		return err
	}
	b.forget(c)
	if b.opts.Bundle != "" {
		if err := b.ensureNodeImage(ctx, log); err != nil {
			return err
		}
	}
	image := b.NodeImage()
	k8s, ok := cluster.KubernetesVersion(image)
	if !ok {
		k8s = "version unknown: the image has no vX.Y.Z tag"
	}
	log.Logf("kind create cluster --name %s --image %s --config %s (Kubernetes %s)", c, image, labfiles.KindConfigFile(c), k8s)
	// kind writes the kubeconfig itself; pointing it at the lab's file
	// keeps it away from the learner's ~/.kube/config.
	err = p.Create(string(c), CreateSpec{Config: raw, NodeImage: image, Kubeconfig: b.kubeconfigPath(c)})
	if err != nil {
		return cluster.WithHint(fmt.Errorf("kind create cluster --name %s: %w", c, err),
			"retry: kind removed the partial cluster; if it says the name is taken, run `kind delete cluster --name "+string(c)+"` first; `clustermesh-lab doctor` checks the machine")
	}
	if err := b.updateRecord(func(r *record) {
		e := r.Clusters[c]
		e.Complete = true
		r.Clusters[c] = e
	}); err != nil {
		return err
	}
	if err := b.writeKubeconfigs(c, p); err != nil {
		return err
	}
	if b.preloading() {
		if err := b.preloadRecorded(ctx, c, p, log); err != nil {
			return err
		}
	}
	log.Logf("Cluster %q is up: context %s in %s; its nodes stay NotReady until a CNI is installed", c, c.Context(), b.kubeconfigPath(c))
	return nil
}

// useExternal checks a cluster the learner brings: it must answer and let
// the lab read nodes and kube-system. It is never created or modified here.
func (b *Backend) useExternal(ctx context.Context, c cluster.Name, k Kubeconfig, log cluster.Logger) error {
	log.Logf("Using your cluster for %s: %s", c, k)
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	hint := fmt.Sprintf("check that the cluster given for %s runs and that your credentials are valid", c)
	v, err := kc.Discovery().ServerVersion()
	if err != nil {
		return cluster.WithHint(fmt.Errorf("cluster %s does not answer: %w (%w)", c, err, ErrExternalCluster), hint)
	}
	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return cluster.WithHint(fmt.Errorf("cluster %s: cannot list nodes: %w (%w)", c, err, ErrExternalCluster), hint+" (the lab needs cluster-admin)")
	}
	if _, err := kc.CoreV1().Namespaces().Get(ctx, namespace, metav1.GetOptions{}); err != nil {
		return cluster.WithHint(fmt.Errorf("cluster %s: cannot read namespace %s: %w (%w)", c, namespace, err, ErrExternalCluster), hint+" (the lab needs cluster-admin)")
	}
	if err := b.writeKubeconfigs(c, nil); err != nil {
		return err
	}
	log.Logf("Cluster %s answers: Kubernetes %s, %d node(s); the lab will not delete it", c, v.GitVersion, len(nodes.Items))
	return nil
}

// DeleteCluster deletes a kind cluster this lab created. A missing cluster
// is already deleted; a cluster the lab did not create, or one the learner
// brought, is never deleted: the lab lets go of a brought one (forgets its
// kubeconfig), so that the teardown is done and the lab complete.
func (b *Backend) DeleteCluster(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	if k, ok := b.external(c); ok {
		log.Logf("Not deleting %s: it is your cluster (%s), not one this lab created; remove what the lab installed with `helm uninstall cilium -n kube-system` and `kubectl delete -f deployment-%s.yaml`", c, k, c)
		return b.dropCluster(c)
	}
	p, exists, _, ours, err := b.kindCluster(ctx, c, log)
	if err != nil {
		return err
	}
	if !exists {
		log.Logf("Cluster %q does not exist: nothing to delete", c)
		return b.dropCluster(c)
	}
	if !ours {
		return cluster.WithHint(fmt.Errorf("not deleting kind cluster %q: this lab did not create it", c),
			fmt.Sprintf("delete it yourself with `kind delete cluster --name %s` if you are sure", c))
	}
	log.Logf("Deleting cluster %q ...", c)
	if err := p.Delete(string(c), b.kubeconfigPath(c)); err != nil {
		return cluster.WithHint(fmt.Errorf("kind delete cluster --name %s: %w", c, err), "retry, or run `kind delete cluster --name "+string(c)+"`")
	}
	log.Logf("Deleted cluster %q", c)
	return b.dropCluster(c)
}

// dropCluster forgets a deleted cluster: record, clients and kubeconfigs.
func (b *Backend) dropCluster(c cluster.Name) error {
	b.forget(c)
	if err := b.updateRecord(func(r *record) { delete(r.Clusters, c) }); err != nil {
		return err
	}
	b.recordMu.Lock()
	defer b.recordMu.Unlock()
	if err := os.Remove(b.kubeconfigPath(c)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return err
	}
	return b.writeMergedLocked()
}

// writeKubeconfigs writes the lab's kubeconfig of c (context kind-<c>) and
// the merged one, with clientcmd and mode 0600. For a kind cluster the
// content is kind's; for a cluster the learner brings it is their context,
// flattened and renamed, so the lab's commands work on both alike.
func (b *Backend) writeKubeconfigs(c cluster.Name, p KindProvider) error {
	var cfg *clientcmdapi.Config
	if p != nil {
		raw, err := p.KubeConfig(string(c), false)
		if err != nil {
			return fmt.Errorf("read the kubeconfig of %s from kind: %w", c, err)
		}
		if cfg, err = clientcmd.Load([]byte(raw)); err != nil {
			return fmt.Errorf("parse the kubeconfig of %s from kind: %w", c, err)
		}
	} else {
		cc, err := b.clientConfig(c)
		if err != nil {
			return err
		}
		rawCfg, err := cc.RawConfig()
		if err != nil {
			return err
		}
		if cfg, err = renameContext(rawCfg, b.opts.External[c].Context, c); err != nil {
			return fmt.Errorf("copy the kubeconfig of %s: %w", c, err)
		}
	}
	cfg.CurrentContext = c.Context()
	if _, ok := cfg.Contexts[c.Context()]; !ok {
		return fmt.Errorf("the kubeconfig of %s has no context %s", c, c.Context())
	}
	data, err := clientcmd.Write(*cfg)
	if err != nil {
		return err
	}
	b.recordMu.Lock()
	defer b.recordMu.Unlock()
	if err := labfiles.WriteAtomic(b.kubeconfigPath(c), data, 0o600); err != nil {
		return err
	}
	return b.writeMergedLocked()
}

// renameContext keeps only the chosen context of raw (its cluster and
// user inlined) and names all three after the lab's cluster.
func renameContext(raw clientcmdapi.Config, context string, c cluster.Name) (*clientcmdapi.Config, error) {
	if context == "" {
		context = raw.CurrentContext
	}
	ctx, ok := raw.Contexts[context]
	if !ok {
		return nil, fmt.Errorf("context %q not found", context)
	}
	if err := clientcmdapi.FlattenConfig(&raw); err != nil {
		return nil, err
	}
	cl, ok := raw.Clusters[ctx.Cluster]
	if !ok {
		return nil, fmt.Errorf("context %q names unknown cluster %q", context, ctx.Cluster)
	}
	out := clientcmdapi.NewConfig()
	name := c.Context()
	out.Clusters[name] = cl
	if user, ok := raw.AuthInfos[ctx.AuthInfo]; ok {
		out.AuthInfos[name] = user
	}
	nctx := ctx.DeepCopy()
	nctx.Cluster, nctx.AuthInfo = name, name
	out.Contexts[name] = nctx
	out.CurrentContext = name
	return out, nil
}

// writeMergedLocked rewrites merged-kubeconfig.yaml from the per-cluster
// files present, as `KUBECONFIG=a:b kubectl config view --flatten` would.
func (b *Backend) writeMergedLocked() error { return labfiles.WriteMergedKubeconfig(b.opts.Dir) }
