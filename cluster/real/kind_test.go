package real

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	k8stesting "k8s.io/client-go/testing"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/kind/pkg/apis/config/v1alpha4"
	kindcluster "sigs.k8s.io/kind/pkg/cluster"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// TestKindConfigIsTheSeeds decodes the configs the lab writes with kind's
// types and compares them with the seed's kind-us-cluster.yaml and
// kind-eu-cluster.yaml, field by field; on a cgroup v1 host they carry the
// kubelet patch and nothing else changes.
func TestKindConfigIsTheSeeds(t *testing.T) {
	meta := v1alpha4.TypeMeta{Kind: "Cluster", APIVersion: "kind.x-k8s.io/v1alpha4"}
	want := map[cluster.Name]*v1alpha4.Cluster{
		cluster.US: {
			TypeMeta: meta, Name: "us",
			Networking: v1alpha4.Networking{DisableDefaultCNI: true, PodSubnet: "10.1.0.0/16", ServiceSubnet: "172.20.1.0/24"},
			Nodes: []v1alpha4.Node{
				{Role: v1alpha4.ControlPlaneRole, ExtraPortMappings: []v1alpha4.PortMapping{
					{ContainerPort: 32042, HostPort: 32042}, {ContainerPort: 31234, HostPort: 31234}, {ContainerPort: 31235, HostPort: 31235},
				}},
				{Role: v1alpha4.WorkerRole},
				{Role: v1alpha4.WorkerRole},
			},
		},
		cluster.EU: {
			TypeMeta: meta, Name: "eu",
			Networking: v1alpha4.Networking{DisableDefaultCNI: true, PodSubnet: "10.2.0.0/16", ServiceSubnet: "172.20.2.0/24"},
			Nodes:      []v1alpha4.Node{{Role: v1alpha4.ControlPlaneRole}, {Role: v1alpha4.WorkerRole}, {Role: v1alpha4.WorkerRole}},
		},
	}
	for c, w := range want {
		for _, v1 := range []bool{false, true} {
			raw, err := labfiles.KindConfig(c, v1)
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeKindConfig(c, raw)
			if err != nil {
				t.Fatal(err)
			}
			w := *w
			if v1 {
				w.KubeadmConfigPatches = []string{"kind: KubeletConfiguration\nfailCgroupV1: false\n"}
			}
			if !reflect.DeepEqual(got, &w) {
				t.Errorf("%s (cgroup v1 %v): decoded\n%+v\nwant\n%+v", c, v1, got, &w)
			}
		}
	}
}

// captureOutput runs fn with os.Stdout and os.Stderr redirected and
// returns what was written to them.
func captureOutput(t *testing.T, fn func()) string {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	oldOut, oldErr := os.Stdout, os.Stderr
	os.Stdout, os.Stderr = w, w
	var out []byte
	var wg sync.WaitGroup
	wg.Go(func() { out, _ = io.ReadAll(r) })
	defer func() {
		os.Stdout, os.Stderr = oldOut, oldErr
	}()
	fn()
	w.Close()
	wg.Wait()
	return string(out)
}

// TestKindProviderLogsToTheStep builds kind's provider as the backend does
// and makes it fail early (no container engine answers here, or the name
// is invalid where one does): whatever kind says reaches the step's logger,
// nothing reaches the terminal.
func TestKindProviderLogsToTheStep(t *testing.T) {
	log := &lines{}
	b := &Backend{diag: &diagWriter{}}
	out := captureOutput(t, func() {
		p := kindcluster.NewProvider(kindcluster.ProviderWithLogger(kindLogger{step: log, diag: b.diag}), kindcluster.ProviderWithDocker())
		err := p.Create("Invalid_Name!", kindcluster.CreateWithDisplayUsage(false), kindcluster.CreateWithDisplaySalutation(false))
		if err == nil {
			t.Error("kind created a cluster with an invalid name")
		}
		kl := kindLogger{step: log, diag: b.diag}
		kl.V(0).Infof(" • Ensuring node image (kindest/node:v1.37.0) 🖼  ...\n")
		kl.V(0).Infof(" ✓ Ensuring node image (kindest/node:v1.37.0) 🖼\n")
		kl.V(1).Info("debug detail")
		kl.Warn("cluster name is probably too long")
	})
	if out != "" {
		t.Errorf("kind wrote to the terminal: %q", out)
	}
	for _, want := range []string{" • Ensuring node image (kindest/node:v1.37.0) 🖼  ...", " ✓ Ensuring node image", "WARNING: cluster name is probably too long"} {
		if !log.has(want) {
			t.Errorf("step log lacks %q:\n%s", want, log)
		}
	}
	if log.has("debug detail") {
		t.Error("kind's debug output reached the step log")
	}
}

// fakeKind stands for kind's provider: it records calls and "creates"
// clusters by listing them and serving a kubeconfig.
type fakeKind struct {
	mu      sync.Mutex
	names   []string
	created []string
	specs   map[string]CreateSpec
	deleted []string
	fail    error
}

func (f *fakeKind) Create(name string, spec CreateSpec) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail != nil {
		return f.fail
	}
	f.created = append(f.created, name)
	f.names = append(f.names, name)
	if f.specs == nil {
		f.specs = map[string]CreateSpec{}
	}
	f.specs[name] = spec
	return nil
}

func (f *fakeKind) Delete(name, kubeconfig string) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.deleted = append(f.deleted, name)
	f.names = slices.DeleteFunc(f.names, func(n string) bool { return n == name })
	return nil
}

func (f *fakeKind) List() ([]string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.names), nil
}

func (f *fakeKind) KubeConfig(name string, internal bool) (string, error) {
	return fmt.Sprintf(`apiVersion: v1
kind: Config
clusters:
- name: kind-%[1]s
  cluster:
    server: https://127.0.0.1:%[2]d
    certificate-authority-data: Y2E=
contexts:
- name: kind-%[1]s
  context: {cluster: kind-%[1]s, user: kind-%[1]s}
current-context: kind-%[1]s
users:
- name: kind-%[1]s
  user: {client-certificate-data: Y2VydA==, client-key-data: a2V5}
`, name, 6443+len(name)), nil
}

func TestCreateClusterLifecycle(t *testing.T) {
	ctx := context.Background()
	fk := &fakeKind{}
	tb := newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) { return fk, nil }
	})
	log := &lines{}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range cluster.Names() {
		wg.Go(func() { errs[i] = tb.CreateCluster(ctx, c, log) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if len(fk.created) != 2 {
		t.Fatalf("created %v", fk.created)
	}
	// kind gets the very file the learner sees, and the pinned image.
	for _, c := range cluster.Names() {
		spec := fk.specs[string(c)]
		file, err := os.ReadFile(filepath.Join(tb.dir, labfiles.KindConfigFile(c)))
		if err != nil || string(spec.Config) != string(file) || strings.Contains(string(file), "failCgroupV1") {
			t.Errorf("%s: kind got\n%s\nthe lab directory holds (%v)\n%s", c, spec.Config, err, file)
		}
		if spec.NodeImage != cluster.DefaultNodeImage || spec.Kubeconfig != tb.kubeconfigPath(c) {
			t.Errorf("%s: spec %+v", c, spec)
		}
		if want := fmt.Sprintf("kind create cluster --name %s --image %s --config kind-%s-cluster.yaml (Kubernetes v1.35.8)", c, cluster.DefaultNodeImage, c); !log.has(want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	for _, name := range []string{labfiles.KubeconfigFile(cluster.US), labfiles.KubeconfigFile(cluster.EU), labfiles.MergedKubeconfig, recordFile} {
		fi, err := os.Stat(filepath.Join(tb.dir, name))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("%s: %v mode %v, want 0600", name, err, fi.Mode())
		}
	}
	merged, err := clientcmd.LoadFromFile(filepath.Join(tb.dir, labfiles.MergedKubeconfig))
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := merged.Contexts["kind-us"]; !ok || merged.Contexts["kind-eu"] == nil {
		t.Errorf("merged contexts %v", merged.Contexts)
	}
	if ok, _ := tb.exists(cluster.US); !ok {
		t.Error("created cluster does not exist")
	}

	// Again: reused, not recreated.
	if err := tb.CreateCluster(ctx, cluster.US, log); err != nil || len(fk.created) != 2 || !log.has("reusing it") {
		t.Fatalf("reuse: %v %v\n%s", err, fk.created, log)
	}

	// A cluster of the same name the lab did not create is refused, and
	// never deleted.
	other := &fakeKind{names: []string{"us"}}
	tb2 := newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) { return other, nil }
	})
	err = tb2.CreateCluster(ctx, cluster.US, log)
	if err == nil || !strings.Contains(err.Error(), "did not create") || !strings.Contains(cluster.HintOf(err), "kind delete cluster --name us") {
		t.Errorf("foreign cluster: %v (hint %q)", err, cluster.HintOf(err))
	}
	if err := tb2.DeleteCluster(ctx, cluster.US, log); err == nil || len(other.deleted) != 0 {
		t.Errorf("deleted a foreign cluster: %v %v", err, other.deleted)
	}

	// A half-created cluster is deleted and created again.
	if err := tb.updateRecord(func(r *record) { r.Clusters[cluster.EU] = recordEntry{} }); err != nil {
		t.Fatal(err)
	}
	if err := tb.CreateCluster(ctx, cluster.EU, log); err != nil || !slices.Contains(fk.deleted, "eu") || len(fk.created) != 3 {
		t.Fatalf("half-created: %v deleted %v created %v", err, fk.deleted, fk.created)
	}

	// Teardown deletes both and forgets them; deleting again is a no-op.
	for range 2 {
		for _, c := range cluster.Names() {
			if err := tb.DeleteCluster(ctx, c, log); err != nil {
				t.Fatal(err)
			}
			if ok, _ := tb.exists(c); ok {
				t.Errorf("%s still exists", c)
			}
			st, err := tb.Status(ctx, c)
			if err != nil || st.Exists {
				t.Errorf("status of a deleted cluster: %+v %v", st, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(tb.dir, labfiles.MergedKubeconfig)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("merged kubeconfig left behind: %v", err)
	}
	if !log.has("does not exist: nothing to delete") {
		t.Errorf("second delete:\n%s", log)
	}

	// A failed create says how to go on.
	fk.fail = errors.New("failed to pull image")
	if err := tb.CreateCluster(ctx, cluster.US, log); err == nil || cluster.HintOf(err) == "" {
		t.Errorf("failed create: %v", err)
	}
}

// TestExternalClusters checks the bring-your-own path: the cluster is
// checked, its context copied into the lab's kubeconfigs under the lab's
// name, and never deleted.
func TestExternalClusters(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	own := filepath.Join(dir, "own.yaml")
	fk := &fakeKind{}
	cfg, _ := fk.KubeConfig("mine", false)
	if err := os.WriteFile(own, []byte(strings.ReplaceAll(cfg, "current-context: kind-mine", "current-context: other")), 0o600); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(own)
	us := newFakeCluster(append(kindNodes(cluster.US), kubeSystem())...)
	tb := newTestBackend(t, "", us, newFakeCluster(), func(o *Options) {
		o.External = map[cluster.Name]Kubeconfig{cluster.US: {Path: own, Context: "kind-mine"}}
		o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) {
			t.Error("kind used for a cluster the learner brings")
			return fk, nil
		}
	})
	log := &lines{}
	// Until the create step has checked it, the cluster is not the lab's:
	// a new lab must not resume past that step.
	if st, err := tb.Status(ctx, cluster.US); err != nil || st.Exists {
		t.Errorf("status before the create step: %+v %v", st, err)
	}
	if err := tb.CreateCluster(ctx, cluster.US, log); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if !log.has("3 node(s)") {
		t.Errorf("log:\n%s", log)
	}
	copied, err := clientcmd.LoadFromFile(tb.kubeconfigPath(cluster.US))
	if err != nil || copied.CurrentContext != "kind-us" || copied.Clusters["kind-us"] == nil || copied.Clusters["kind-us"].Server != "https://127.0.0.1:6447" {
		t.Fatalf("copied kubeconfig: %v %+v", err, copied)
	}
	if err := tb.DeleteCluster(ctx, cluster.US, log); err != nil || !log.has("Not deleting us") {
		t.Errorf("delete: %v\n%s", err, log)
	}
	if after, _ := os.ReadFile(own); string(after) != string(before) {
		t.Error("the learner's kubeconfig was modified")
	}
	if st, err := tb.Status(ctx, cluster.US); err != nil || st.Exists {
		t.Errorf("status after the teardown let go of the cluster: %+v %v", st, err)
	}
	if _, err := os.Stat(tb.kubeconfigPath(cluster.US)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the lab's kubeconfig of a cluster it let go of: %v", err)
	}
	if got, err := us.kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{}); err != nil || len(got.Items) != 3 {
		t.Errorf("the learner's cluster changed: %v %v", got, err)
	}
	// One cluster brought: the engine is still checked (here a stub that
	// finds nothing), and the brought one's kubeconfig, with a warning
	// that the other is a kind cluster it must reach.
	checks := tb.Preflight(ctx)
	if len(checks) != 1 || checks[0].Name != "Cluster us (yours)" || checks[0].Status != cluster.Warn || !strings.Contains(checks[0].Detail, "eu is a kind cluster") {
		t.Errorf("one cluster brought: %+v", checks)
	}
	tb.opts.External[cluster.EU] = Kubeconfig{Path: own, Context: "kind-mine"}
	if checks := tb.Preflight(ctx); len(checks) != 2 || cluster.Failed(checks) || checks[0].Status != cluster.Pass || checks[1].Status != cluster.Pass {
		t.Errorf("both brought: %v", checks)
	}
	// A kubeconfig that is not there, or lacks the context, fails the
	// preflight, naming the cluster.
	tb.opts.External[cluster.EU] = Kubeconfig{Path: filepath.Join(t.TempDir(), "missing.yaml")}
	tb.opts.External[cluster.US] = Kubeconfig{Path: own, Context: "nope"}
	checks = tb.Preflight(ctx)
	if len(checks) != 2 || !cluster.Failed(checks) {
		t.Fatalf("broken kubeconfigs: %+v", checks)
	}
	for i, want := range []struct{ name, detail, fix string }{
		{"Cluster us (yours)", `load the kubeconfig of us (context nope of ` + own + `): context "nope" not found`, "check the kubeconfig file and context given for us"},
		{"Cluster eu (yours)", "load the kubeconfig of eu", "check the kubeconfig file and context given for eu"},
	} {
		if c := checks[i]; c.Status != cluster.Fail || c.Name != want.name || !strings.Contains(c.Detail, want.detail) || c.Fix != want.fix {
			t.Errorf("check %d: %+v, want %s failing with %q, fix %q", i, c, want.name, want.detail, want.fix)
		}
	}
	if !strings.Contains(checks[1].Detail, "missing.yaml") {
		t.Errorf("the missing file is not named: %s", checks[1].Detail)
	}

	// A context that is not there is reported as the brought cluster's
	// fault (the command line names the flag to fix).
	tb3 := newTestBackend(t, "", nil, nil, func(o *Options) {
		o.Clients = nil
		o.External = map[cluster.Name]Kubeconfig{cluster.EU: {Path: own, Context: "nope"}}
	})
	err = tb3.CreateCluster(ctx, cluster.EU, log)
	if !errors.Is(err, ErrExternalCluster) || !strings.Contains(cluster.HintOf(err), "given for eu") {
		t.Errorf("missing context: %v (hint %q)", err, cluster.HintOf(err))
	}
}

// TestStatusOfAClusterDeletedOutsideTheLab checks that a kind cluster
// deleted with `kind delete cluster` reads as absent, not as an error.
func TestStatusOfAClusterDeletedOutsideTheLab(t *testing.T) {
	fk := &fakeKind{names: []string{"us"}}
	fc := newFakeCluster()
	fc.kc.PrependReactor("list", "nodes", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("Get \"https://127.0.0.1:6443/api/v1/nodes\": dial tcp 127.0.0.1:6443: connect: connection refused")
	})
	tb := newTestBackend(t, "", fc, nil, func(o *Options) {
		o.Kind = func(context.Context, cluster.Logger) (KindProvider, error) { return fk, nil }
	})
	tb.markCreated(t, cluster.US)
	if _, err := tb.Status(context.Background(), cluster.US); err == nil {
		t.Error("an unreachable cluster that kind lists read without error")
	}
	fk.names = nil
	if st, err := tb.Status(context.Background(), cluster.US); err != nil || st.Exists {
		t.Errorf("deleted cluster: %+v %v", st, err)
	}
}

// TestCreateOnCgroupV1 creates a cluster where the engine reports cgroup
// v1: the kind config in the lab directory carries the kubelet patch, kind
// gets exactly that file, and the step's log says why. --node-image
// replaces the image, and an untagged one is said to be of unknown version.
func TestCreateOnCgroupV1(t *testing.T) {
	fk := &fakeKind{}
	const image = "registry.example/kind/node@sha256:0123"
	tb := newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.Kind = func(context.Context, cluster.Logger) (KindProvider, error) { return fk, nil }
		o.Engine = func(context.Context) (doctor.Engine, error) {
			return doctor.Engine{Name: "docker", CgroupVersion: "1"}, nil
		}
		o.NodeImage = image
	})
	log := &lines{}
	if err := tb.CreateCluster(context.Background(), cluster.EU, log); err != nil {
		t.Fatal(err)
	}
	file, err := os.ReadFile(filepath.Join(tb.dir, "kind-eu-cluster.yaml"))
	if err != nil || !strings.Contains(string(file), "failCgroupV1: false") || string(fk.specs["eu"].Config) != string(file) {
		t.Fatalf("kind config %v:\n%s\nkind got\n%s", err, file, fk.specs["eu"].Config)
	}
	if fk.specs["eu"].NodeImage != image {
		t.Errorf("image %q, want %q", fk.specs["eu"].NodeImage, image)
	}
	for _, want := range []string{"cgroup v1, which kubelet 1.35 refuses by default: kind-eu-cluster.yaml sets failCgroupV1: false", "--image " + image, "version unknown"} {
		if !log.has(want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	// WriteLabFiles writes all four seed files with the same engine facts.
	if err := tb.WriteLabFiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"kind-us-cluster.yaml", "kind-eu-cluster.yaml", "deployment-us.yaml", "deployment-eu.yaml"} {
		b, err := os.ReadFile(filepath.Join(tb.dir, name))
		if err != nil || len(b) == 0 {
			t.Errorf("%s: %v", name, err)
		}
		if strings.HasPrefix(name, "kind-") && !strings.Contains(string(b), "failCgroupV1: false") {
			t.Errorf("%s lacks the kubelet patch", name)
		}
	}
	// Without an engine (both clusters brought), the seed's configs as they are.
	tb2 := newTestBackend(t, "", nil, nil, func(o *Options) {
		o.External = map[cluster.Name]Kubeconfig{cluster.US: {}, cluster.EU: {}}
		o.Engine = func(context.Context) (doctor.Engine, error) {
			t.Error("engine detected for clusters the learner brings")
			return doctor.Engine{}, errors.New("no engine")
		}
	})
	if err := tb2.WriteLabFiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(filepath.Join(tb2.dir, "kind-us-cluster.yaml")); strings.Contains(string(b), "failCgroupV1") || len(b) == 0 {
		t.Errorf("brought clusters: %s", b)
	}
}
