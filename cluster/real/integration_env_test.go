//go:build integration

package real

// The integration suite's clusters: two real control planes, "us" and "eu",
// built from Go modules (hack/k8sbins) and run by controller-runtime's
// envtest, with kube-controller-manager and kube-scheduler as processes and
// kwok in this process standing in for the kubelets. See the README,
// "Integration suite".

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-logr/logr"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
	"sigs.k8s.io/controller-runtime/pkg/envtest"
	ctrllog "sigs.k8s.io/controller-runtime/pkg/log"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// k8sbins are the binaries the suite runs, built by `make k8sbins` into
// the directory KUBEBUILDER_ASSETS names.
var k8sbins = []string{"etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"}

// requireEnv is set by `make test-integration`, which builds the binaries
// first: there a missing binary is a failure, never a skip.
const requireEnv = "CLUSTERMESH_LAB_INTEGRATION"

// assetsDir returns the directory of the control-plane binaries. A plain
// `go test -tags integration` without them skips, naming the make target
// that builds them; under make (requireEnv) or in CI (CI set) it fails.
func assetsDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv("KUBEBUILDER_ASSETS")
	why := "KUBEBUILDER_ASSETS is not set"
	if dir != "" {
		why = ""
		for _, bin := range k8sbins {
			if fi, err := os.Stat(filepath.Join(dir, bin)); err != nil || fi.Mode()&0o111 == 0 {
				why = fmt.Sprintf("KUBEBUILDER_ASSETS=%s has no executable %s", dir, bin)
				break
			}
		}
	}
	if why == "" {
		return dir
	}
	msg := why + ": build the control-plane binaries with `make k8sbins` and run `make test-integration` (it sets KUBEBUILDER_ASSETS)"
	if os.Getenv("CI") != "" || os.Getenv(requireEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// kubeContext is the context a learner's kubeconfig would give the
// cluster, as kind names them.
func kubeContext(c cluster.Name) string { return c.Context() }

// nodeAddress is the InternalIP of a node of the suite's clusters. They
// are loopback addresses: the API server dials a node only to exec or read
// logs, which the suite never asks it to, and any stray dial then stays
// on this machine.
func nodeAddress(c cluster.Name, i int) string { return fmt.Sprintf("127.0.%d.%d", 1+c.Index(), 2+i) }

// kindNodeNames are the seed's three nodes of a cluster, as kind names them.
func kindNodeNames(c cluster.Name) []string {
	return []string{string(c) + "-control-plane", string(c) + "-worker", string(c) + "-worker2"}
}

// controlPlane is one running cluster of the suite.
type controlPlane struct {
	name cluster.Name
	env  *envtest.Environment
	cfg  *rest.Config
	kc   kubernetes.Interface
	// adminKubeconfig is a kubeconfig of this cluster alone, for the
	// controller processes.
	adminKubeconfig string
	logs            []*procLog
}

// clusters are the suite's two control planes and the kubeconfig a
// learner would hand the lab: one file holding both contexts.
type clusters struct {
	cp         map[cluster.Name]*controlPlane
	kubeconfig string
}

// external is what --us-kubeconfig/--us-context and --eu-kubeconfig/
// --eu-context give the backend.
func (cs *clusters) external() map[cluster.Name]Kubeconfig {
	out := map[cluster.Name]Kubeconfig{}
	for c := range cs.cp {
		out[c] = Kubeconfig{Path: cs.kubeconfig, Context: kubeContext(c)}
	}
	return out
}

// kube is the test's own client of cluster c.
func (cs *clusters) kube(c cluster.Name) kubernetes.Interface { return cs.cp[c].kc }

var ctrlLogOnce sync.Once

// startClusters starts "us" and "eu" (or only the clusters named) in
// parallel and stops them when the test ends. Each gets etcd and
// kube-apiserver (envtest), kube-controller-manager and kube-scheduler
// (processes), kwok (a process, the kubelets' stand-in) and the seed's
// three nodes.
func startClusters(t *testing.T, only ...cluster.Name) *clusters {
	t.Helper()
	assets := assetsDir(t)
	// controller-runtime warns on stderr when its logger is never set.
	ctrlLogOnce.Do(func() { ctrllog.SetLogger(logr.Discard()) })
	// The backend points klog (a process global, which may only be set
	// before anything logs through it) at its diagnostic log on first use.
	// In the lab's process nothing uses klog before; here the test's
	// clients do, so the suite has it set first, to nowhere.
	routeLibraryLogs(&diagWriter{})
	dir := t.TempDir()
	cs := &clusters{cp: map[cluster.Name]*controlPlane{}, kubeconfig: filepath.Join(dir, "kubeconfig.yaml")}
	var mu sync.Mutex
	var wg sync.WaitGroup
	if len(only) == 0 {
		only = cluster.Names()
	}
	errs := make([]error, len(only))
	for i, c := range only {
		wg.Go(func() {
			cp, err := startControlPlane(t, c, assets, dir)
			if err != nil {
				errs[i] = fmt.Errorf("start cluster %s: %w", c, err)
			}
			mu.Lock()
			cs.cp[c] = cp
			mu.Unlock()
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatal(err)
	}
	if err := writeLearnerKubeconfig(cs); err != nil {
		t.Fatal(err)
	}
	return cs
}

// startControlPlane starts one cluster; what it started is stopped by
// t.Cleanup even when it fails half-way.
func startControlPlane(t *testing.T, c cluster.Name, assets, dir string) (*controlPlane, error) {
	cp := &controlPlane{name: c}
	env := &envtest.Environment{BinaryAssetsDirectory: assets, ControlPlaneStartTimeout: time.Minute, ControlPlaneStopTimeout: time.Minute}
	// The API server reaches a kubelet (for exec) at the node's InternalIP
	// only: never through a name that would need a DNS lookup.
	env.ControlPlane.GetAPIServer().Configure().Set("kubelet-preferred-address-types", "InternalIP")
	cp.env = env
	cfg, err := env.Start()
	t.Cleanup(func() {
		if err := env.Stop(); err != nil {
			t.Errorf("stop the control plane of %s: %v", c, err)
		}
	})
	if err != nil {
		return cp, err
	}
	cp.cfg = cfg
	if cp.kc, err = kubernetes.NewForConfig(cfg); err != nil {
		return cp, err
	}
	cp.adminKubeconfig = filepath.Join(dir, "admin-"+string(c)+".yaml")
	if err := writeKubeconfig(cp.adminKubeconfig, map[string]*rest.Config{kubeContext(c): cfg}, kubeContext(c), ""); err != nil {
		return cp, err
	}
	bin := func(name string) string { return filepath.Join(assets, name) }
	common := []string{"--kubeconfig=" + cp.adminKubeconfig, "--leader-elect=false", "--secure-port=0"}
	// The controllers a kind cluster runs that the lab's objects need:
	// rollouts, DaemonSet pods, the certificate Job, and node lifecycle,
	// which lifts the not-ready taint admission puts on new nodes once
	// they report Ready.
	kcm := append(common, "--controllers=deployment-controller,replicaset-controller,daemonset-controller,job-controller,node-lifecycle-controller")
	for _, p := range []struct {
		name string
		args []string
	}{{"kube-controller-manager", kcm}, {"kube-scheduler", common}} {
		l, err := startProcess(t, filepath.Join(dir, fmt.Sprintf("%s-%s.log", p.name, c)), bin(p.name), p.args...)
		if err != nil {
			return cp, err
		}
		cp.logs = append(cp.logs, l)
	}
	l, err := startKwok(t, cp, assets, dir)
	if err != nil {
		return cp, fmt.Errorf("start kwok: %w", err)
	}
	cp.logs = append(cp.logs, l)
	if err := createNodes(context.Background(), cp.kc, c); err != nil {
		return cp, err
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, l := range cp.logs {
				t.Logf("last lines of %s:\n%s", filepath.Base(l.path), l.tail(30))
			}
		}
	})
	return cp, nil
}

// writeKubeconfig writes a kubeconfig with one context per REST
// configuration; prefix names its cluster and user apart from the context,
// as kubeconfigs other tools write do.
func writeKubeconfig(path string, cfgs map[string]*rest.Config, current, prefix string) error {
	kc := clientcmdapi.NewConfig()
	for name, cfg := range cfgs {
		kc.Clusters[prefix+name] = &clientcmdapi.Cluster{Server: cfg.Host, CertificateAuthorityData: cfg.CAData}
		kc.AuthInfos[prefix+"admin@"+name] = &clientcmdapi.AuthInfo{ClientCertificateData: cfg.CertData, ClientKeyData: cfg.KeyData, Token: cfg.BearerToken}
		kc.Contexts[name] = &clientcmdapi.Context{Cluster: prefix + name, AuthInfo: prefix + "admin@" + name}
	}
	kc.CurrentContext = current
	if err := clientcmd.WriteToFile(*kc, path); err != nil {
		return fmt.Errorf("write kubeconfig %s: %w", path, err)
	}
	return nil
}

// writeLearnerKubeconfig writes the kubeconfig the lab is given: both
// clusters in one file, under contexts kind-us and kind-eu whose cluster
// and user entries have other names. Its current context is eu, so a
// backend that ignored --us-context would drive the wrong cluster, and
// one that kept the entries' names would write a broken lab kubeconfig.
// US's credentials are inline, as kind writes them; EU's are files named
// by paths relative to the kubeconfig, as kubeadm and minikube write
// them, which the lab must inline into its own kubeconfig of EU.
func writeLearnerKubeconfig(cs *clusters) error {
	cfgs := map[string]*rest.Config{}
	for c, cp := range cs.cp {
		cfgs[kubeContext(c)] = cp.cfg
	}
	if err := writeKubeconfig(cs.kubeconfig, cfgs, kubeContext(cluster.EU), "envtest-"); err != nil {
		return err
	}
	kc, err := clientcmd.LoadFromFile(cs.kubeconfig)
	if err != nil {
		return err
	}
	ctx, ok := kc.Contexts[kubeContext(cluster.EU)]
	if !ok {
		return nil
	}
	cl, user := kc.Clusters[ctx.Cluster], kc.AuthInfos[ctx.AuthInfo]
	dir := filepath.Join(filepath.Dir(cs.kubeconfig), "credentials")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	for _, f := range []struct {
		name string
		data *[]byte
		path *string
	}{{"eu-ca.crt", &cl.CertificateAuthorityData, &cl.CertificateAuthority}, {"eu-admin.crt", &user.ClientCertificateData, &user.ClientCertificate}, {"eu-admin.key", &user.ClientKeyData, &user.ClientKey}} {
		if err := os.WriteFile(filepath.Join(dir, f.name), *f.data, 0o600); err != nil {
			return err
		}
		*f.data, *f.path = nil, filepath.Join("credentials", f.name)
	}
	return clientcmd.WriteToFile(*kc, cs.kubeconfig)
}

// procLog is a controller process's output file.
type procLog struct{ path string }

// tail returns the last n lines of the log.
func (l *procLog) tail(n int) string {
	b, err := os.ReadFile(l.path)
	if err != nil {
		return err.Error()
	}
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	return strings.Join(lines[max(0, len(lines)-n):], "\n")
}

// startProcess runs a control-plane binary with its output in logPath,
// and stops it when the test ends.
func startProcess(t *testing.T, logPath, bin string, args ...string) (*procLog, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", filepath.Base(bin), err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	t.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		f.Close()
	})
	return &procLog{path: logPath}, nil
}

// kwokNodeAnnotation marks the nodes kwok manages, as kwokctl's do.
const kwokNodeAnnotation = "kwok.x-k8s.io/node"

// startKwok runs kwok (hack/k8sbins/cmd/kwok: upstream's, with kwokctl's
// "fast" stages built in) against the cluster as a process of its own,
// stopped when the test ends. A process, not a library: kwok's workers
// share unsynchronised caches (see that main.go), and inside the test
// binary the race detector would fail the suite for them.
func startKwok(t *testing.T, cp *controlPlane, assets, dir string) (*procLog, error) {
	return startProcess(t, filepath.Join(dir, "kwok-"+string(cp.name)+".log"), filepath.Join(assets, "kwok"),
		"--kubeconfig="+cp.adminKubeconfig,
		"--manage-nodes-with-annotation-selector="+kwokNodeAnnotation+"=fake",
		// Pod IPs from the seed's pod subnet of the cluster (10.1/16,
		// 10.2/16): data only, nothing is sent to them.
		fmt.Sprintf("--cidr=10.%d.0.0/16", 1+cp.name.Index()),
		"--node-ip="+nodeAddress(cp.name, 0),
	)
}

// createNodes registers the seed's three nodes, as kind's kubelets would:
// a control plane, tainted as kubeadm taints it, and two workers, each
// with its InternalIP. kwok then marks them Ready.
func createNodes(ctx context.Context, kc kubernetes.Interface, c cluster.Name) error {
	for i, name := range kindNodeNames(c) {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{
				Name: name,
				Labels: map[string]string{
					"kubernetes.io/hostname": name, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64",
					"type": "kwok",
				},
				Annotations: map[string]string{kwokNodeAnnotation: "fake"},
			},
			Status: corev1.NodeStatus{
				Addresses: []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: nodeAddress(c, i)}, {Type: corev1.NodeHostName, Address: name}},
			},
		}
		if i == 0 {
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
			n.Spec.Taints = []corev1.Taint{{Key: "node-role.kubernetes.io/control-plane", Effect: corev1.TaintEffectNoSchedule}}
		}
		if _, err := kc.CoreV1().Nodes().Create(ctx, n, metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create node %s: %w", name, err)
		}
	}
	return nil
}

// eventually polls fn until it returns nil or the test's patience runs
// out, then fails with fn's last error. It waits on the control planes'
// controllers, not on a duration the test asserts.
func eventually(t testing.TB, what string, fn func(ctx context.Context) error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	var err error
	for {
		if err = fn(ctx); err == nil {
			return
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: %v", what, err)
		case <-time.After(50 * time.Millisecond):
		}
	}
}
