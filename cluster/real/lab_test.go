package real

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/kubernetes/fake"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
	"github.com/clustermesh-lab/clustermesh-lab/steps/stepstest"
)

// world stands in for what the backend cannot reach here: Helm applying
// releases, kube-controller-manager and the kubelets, the certificate Job,
// the agents and the busybox shell. Each of its stand-ins is small and
// named below; the backend's code runs unchanged on top of it.
type world struct {
	mu   sync.Mutex
	helm *memHelm
	kind *fakeKind
	fcs  map[cluster.Name]*fakeCluster
	recordedMesh
}

// newWorld makes the two fake clusters, kind and Helm's storage, and runs
// the stand-ins every few milliseconds until the test ends.
func newWorld(t testing.TB) *world {
	w := &world{helm: &memHelm{}, kind: &fakeKind{}, fcs: map[cluster.Name]*fakeCluster{}}
	w.kube = func(c cluster.Name) kubernetes.Interface { return w.fcs[c].kc }
	// Helm applies a release's objects before it records it deployed.
	w.helm.onDeploy = func(c cluster.Name, rel *release.Release) error {
		return applyRelease(context.Background(), w.fcs[c].kc, decodeManifest(rel.Manifest))
	}
	for _, c := range cluster.Names() {
		fc := newFakeCluster(append(kindNodes(c), kubeSystem())...)
		// busybox is available once its pod runs, which the world creates.
		fc.gate = func(ctx context.Context, d *appsv1.Deployment) bool {
			if d.Name != busybox {
				return true
			}
			pods, _ := fc.kc.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{LabelSelector: busyboxLabel})
			return len(pods.Items) > 0
		}
		w.fcs[c] = fc
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for {
			select {
			case <-ctx.Done():
				return
			case <-time.After(2 * time.Millisecond):
				w.tick(ctx)
			}
		}
	}()
	return w
}

// tick advances every stand-in once.
func (w *world) tick(ctx context.Context) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, c := range cluster.Names() {
		fc := w.fcs[c]
		w.pods(ctx, c, namespace, ciliumDaemonSet, "k8s-app=cilium", 3, ciliumAgentCtr)
		w.pods(ctx, c, demoNamespace, busybox, "app=busybox", 1, "busybox")
		w.pods(ctx, c, namespace, meshAPIServer, meshAPIServerLabel, 1, kvstoremeshCtr)
		fc.settle(ctx)
		w.certgen(ctx, c)
	}
}

// certgen creates the clustermesh-apiserver certificates, signed by the
// cluster's cilium-ca, once the mesh is enabled, as the chart's Job does.
func (w *world) certgen(ctx context.Context, c cluster.Name) {
	kc := w.fcs[c].kc
	if _, err := kc.AppsV1().Deployments(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{}); err != nil {
		return
	}
	if _, err := kc.CoreV1().Secrets(namespace).Get(ctx, remoteCert, metav1.GetOptions{}); err == nil {
		return
	}
	caSec, err := kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	if err != nil {
		return
	}
	ca := caFromSecret(nopTB{}, caSec)
	for _, n := range meshCerts {
		kc.CoreV1().Secrets(namespace).Create(ctx, ca.certSecret(nopTB{}, n, n), metav1.CreateOptions{})
	}
}

// pods keeps n Running pods for a workload, as its controller would.
func (w *world) pods(ctx context.Context, c cluster.Name, ns, owner, selector string, n int, container string) {
	kc := w.fcs[c].kc
	_, dsErr := kc.AppsV1().DaemonSets(ns).Get(ctx, owner, metav1.GetOptions{})
	_, depErr := kc.AppsV1().Deployments(ns).Get(ctx, owner, metav1.GetOptions{})
	exists := dsErr == nil || depErr == nil
	list, _ := kc.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: selector})
	if !exists || len(list.Items) >= n {
		return
	}
	k, v, _ := strings.Cut(selector, "=")
	for i := len(list.Items); i < n; i++ {
		kc.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("%s-%d", owner, i), Namespace: ns, Labels: map[string]string{k: v}},
			Spec:       corev1.PodSpec{Containers: []corev1.Container{{Name: container}}},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
		}, metav1.CreateOptions{})
	}
}

// recordedMesh answers the exec calls of the backend, the agents' status
// and the busybox probe loop, with what those commands print (recorded
// from real clusters) for the state the clusters are in: an agent reports
// the peer ready once both clusters' releases list each other; the probe's
// answers go round-robin over the backends Cilium's load balancer would
// pick (cluster.Candidates, the contract's rules) from the Services and
// Deployments the clusters hold.
type recordedMesh struct {
	kube func(c cluster.Name) kubernetes.Interface
	mu   sync.Mutex
	rr   map[cluster.Name]int
}

// side reads one cluster's hello-world Service as the load balancer sees it.
func (m *recordedMesh) side(ctx context.Context, c cluster.Name) cluster.Side {
	kc := m.kube(c)
	svc, err := kc.CoreV1().Services(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
	if err != nil {
		return cluster.Side{}
	}
	s := cluster.Side{ServiceExists: true, Settings: cluster.SettingsFromAnnotations(svc.Annotations)}
	if d, err := kc.AppsV1().Deployments(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{}); err == nil {
		s.Ready = int(d.Status.ReadyReplicas)
	}
	return s
}

// meshed reports whether c's release lists the peer: its agents connect.
func (m *recordedMesh) meshed(ctx context.Context, c cluster.Name) bool {
	s, err := m.kube(c).CoreV1().Secrets(namespace).Get(ctx, meshSecret, metav1.GetOptions{})
	return err == nil && len(s.Data[string(c.Peer())]) > 0
}

var seqN = regexp.MustCompile(`seq 1 (\d+)`)

// Exec answers the agents' status and the busybox probe loop.
func (m *recordedMesh) Exec(ctx context.Context, c cluster.Name, ns, pod, container string, cmd []string, stdout io.Writer) error {
	switch container {
	case ciliumAgentCtr:
		ready := m.meshed(ctx, c) && m.meshed(ctx, c.Peer())
		_, err := io.WriteString(stdout, agentJSON(c.Peer(), ready, ""))
		return err
	case kvstoremeshCtr:
		// KVStoreMesh lists the peer once c's release names it, connected
		// once the peer's release names c too (the lab connects both).
		out := "[]\n\n"
		if m.meshed(ctx, c) {
			sample := "down"
			if m.meshed(ctx, c.Peer()) {
				sample = "ready"
			}
			b, err := os.ReadFile("testdata/kvstoremesh-status-" + sample + ".json")
			if err != nil {
				return err
			}
			out = strings.ReplaceAll(string(b), `"name": "eu"`, fmt.Sprintf("%q: %q", "name", c.Peer()))
		}
		_, err := io.WriteString(stdout, out)
		return err
	case "busybox":
		match := seqN.FindStringSubmatch(strings.Join(cmd, " "))
		if match == nil {
			return fmt.Errorf("unexpected command %q", cmd)
		}
		n, _ := strconv.Atoi(match[1])
		nLocal, nRemote := cluster.Candidates(m.side(ctx, c), m.side(ctx, c.Peer()), m.meshed(ctx, c))
		msg := map[cluster.Name]string{cluster.US: `{"message": "Hello world from US!"}`, cluster.EU: `{"message": "Hello world from Europe!"}`}
		var out bytes.Buffer
		for range n {
			m.mu.Lock()
			if m.rr == nil {
				m.rr = map[cluster.Name]int{}
			}
			i := m.rr[c]
			m.rr[c]++
			m.mu.Unlock()
			switch {
			case nLocal+nRemote == 0:
				out.WriteString(probeFailed)
			case i%(nLocal+nRemote) < nLocal:
				out.WriteString(msg[c])
			default:
				out.WriteString(msg[c.Peer()])
			}
			out.WriteString("\n")
		}
		_, err := stdout.Write(out.Bytes())
		return err
	}
	return fmt.Errorf("no such container %s in %s/%s", container, ns, pod)
}

// applyRelease creates or updates the rendered core objects, as Helm does;
// an existing cilium-ca is kept, as the chart's lookup makes Helm keep it.
func applyRelease(ctx context.Context, kc *fake.Clientset, objs []runtime.Object) error {
	for _, obj := range objs {
		var err error
		switch o := obj.(type) {
		case *corev1.ConfigMap:
			_, err = kc.CoreV1().ConfigMaps(namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = kc.CoreV1().ConfigMaps(namespace).Update(ctx, o, metav1.UpdateOptions{})
			}
		case *corev1.Secret:
			_, err = kc.CoreV1().Secrets(namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) && o.Name != caSecret {
				_, err = kc.CoreV1().Secrets(namespace).Update(ctx, o, metav1.UpdateOptions{})
			} else if apierrors.IsAlreadyExists(err) {
				err = nil
			}
		case *corev1.Service:
			_, err = kc.CoreV1().Services(namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = kc.CoreV1().Services(namespace).Update(ctx, o, metav1.UpdateOptions{})
			}
		case *appsv1.Deployment:
			_, err = kc.AppsV1().Deployments(namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = kc.AppsV1().Deployments(namespace).Update(ctx, o, metav1.UpdateOptions{})
			}
		case *appsv1.DaemonSet:
			_, err = kc.AppsV1().DaemonSets(namespace).Create(ctx, o, metav1.CreateOptions{})
			if apierrors.IsAlreadyExists(err) {
				_, err = kc.AppsV1().DaemonSets(namespace).Update(ctx, o, metav1.UpdateOptions{})
			}
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// TestHeadlessLabOnFakes runs every step of the lab, headless, on the real
// backend over the world above, with the published 1.19.5 chart rendered
// by Helm, a cgroup v1 engine and a values file, then checks that a second
// run finds every step done. After each step it replays the step's shown
// commands in the seed's terminals: every file, kubeconfig and context
// they name exists in the lab directory.
func TestHeadlessLabOnFakes(t *testing.T) {
	chart := chartPath(t, "1.19.5")
	w := newWorld(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang guard, not a speed test: -race on a busy 2-core machine is slow
	defer cancel()

	dir, err := labdir.Open(t.TempDir(), "kind", 1)
	if err != nil {
		t.Fatal(err)
	}
	values := filepath.Join(t.TempDir(), "workshop values.yaml")
	if err := os.WriteFile(values, []byte("debug:\n  enabled: true\ncluster:\n  name: not-the-lab's\nhubble:\n  ui:\n    enabled: false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	userValues, err := ReadValuesFile(values)
	if err != nil {
		t.Fatal(err)
	}
	b, err := New(Options{
		Dir:        dir.Path(),
		ChartPath:  chart,
		Values:     userValues,
		ValuesFile: values,
		Engine: func(context.Context) (doctor.Engine, error) {
			return doctor.Engine{Name: "docker", CgroupVersion: "1"}, nil
		},
		Clients: func(ctx context.Context, c cluster.Name) (*Clients, error) {
			return &Clients{Kube: w.fcs[c].kc}, nil
		},
		Helm: w.helm.factory,
		Kind: func(context.Context, cluster.Logger) (KindProvider, error) { return w.kind, nil },
		Exec: w,
		Preflight: func(context.Context) []cluster.Check {
			return []cluster.Check{{Name: "Container engine", Detail: "stand-in"}}
		},
		Poll:           2 * time.Millisecond,
		StatusCacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := b.WriteLabFiles(ctx); err != nil {
		t.Fatal(err)
	}
	sess, err := steps.OpenSession(dir, b, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	sess.Env.Setup = steps.Setup{ValuesFile: values}
	var out bytes.Buffer
	rep := headless.New(&out, len(sess.Runner.Steps))
	rep.Vars = sess.Env.CommandVars()
	sess.SetReporter(rep)
	teardown := len(sess.Runner.Steps) - 1
	terms := &stepstest.Terminals{Home: t.TempDir()}
	replay := func(i int) {
		t.Helper()
		stepstest.CheckStep(t, terms, sess.Runner.Steps[i], sess.Env.CommandVars())
	}
	for i := range teardown {
		if res := sess.Runner.RunStep(ctx, i); res.Err != nil {
			t.Fatalf("step %s: %v\n%s", sess.Runner.Steps[i].ID(), res.Err, out.String())
		}
		replay(i)
	}
	for _, want := range []string{"--values '" + values + "'", "failCgroupV1: false", "Laying the Helm values of " + values + " over the lab's install values"} {
		if !strings.Contains(out.String(), want) && !fileHas(t, dir.File("kind-us-cluster.yaml"), want) {
			t.Errorf("neither the output nor kind-us-cluster.yaml has %q", want)
		}
	}
	// Only true lines: nothing claims a detection or a status nobody read;
	// the enable step reports the Service it read, and connect, which
	// reads the Service type, the NodePort warning.
	text := out.String()
	enable := text[strings.Index(text, "Step 4/12"):strings.Index(text, "Step 5/12")]
	for _, claim := range []string{"Auto-detected", "ClusterMesh: OK", "32380"} {
		if strings.Contains(text, claim) {
			t.Errorf("the output claims %q", claim)
		}
	}
	if strings.Contains(enable, "NodePort detected") || !strings.Contains(enable, "NodePort 32379 in us, 32379 in eu") {
		t.Errorf("enable step:\n%s", enable)
	}
	// The values file keeps Hubble UI off: the hubble step says so and
	// waits for the relay only.
	for _, want := range []string{"! Hubble UI stays off in US: the Helm values (your --cilium-values) turn it off", "! Hubble UI stays off in EU", "hubble-ui stays off in us: the release's values (" + values + ") set hubble.ui.enabled=false", "(US: relay ready :31234 · ui off; EU: relay ready :31234 · ui off)"} {
		if !strings.Contains(text, want) {
			t.Errorf("the hubble step does not say %q", want)
		}
	}
	if !strings.Contains(text, "⚠️  Service type NodePort detected (NodePort 32379)!") {
		t.Error("connect does not report the NodePort it read")
	}
	for _, c := range cluster.Names() {
		rel := w.helm.last(t, c)
		if d, _ := lookup(rel.Config, "debug.enabled"); d != true {
			t.Errorf("%s: the values file's debug.enabled is not in the release: %v", c, rel.Config)
		}
		if n, _ := lookup(rel.Config, "cluster.name"); n != string(c) {
			t.Errorf("%s: cluster.name %v: the values file replaced the lab's --set value", c, n)
		}
	}
	for _, want := range []string{"Connected cluster kind-us and kind-eu", "us: eu: 3/3 configured, 3/3 connected"} {
		if !strings.Contains(out.String(), want) && !strings.Contains(out.String(), strings.TrimPrefix(want, "us: ")) {
			t.Errorf("output lacks %q", want)
		}
	}
	next, _, err := sess.Runner.Resume(ctx)
	if err != nil || next != teardown {
		t.Errorf("resume after the lab: next step %d (%v), want the teardown (%d)\n%s", next, err, teardown, out.String())
	}
	probes := sess.Journal.Probes()
	if len(probes) != 10 {
		t.Fatalf("%d probes, want 10 (5 steps x 2 clusters)", len(probes))
	}
	if err := sess.Runner.RunRange(ctx, teardown, teardown, false); err != nil {
		t.Fatalf("teardown: %v\n%s", err, out.String())
	}
	replay(teardown)
	if testing.Verbose() {
		t.Log(out.String())
	}
	if len(w.kind.deleted) != 2 {
		t.Errorf("teardown deleted %v", w.kind.deleted)
	}
}

// nopTB satisfies testing.TB where the world's stand-ins cannot fail a test.
type nopTB struct{ testing.TB }

func (nopTB) Helper()                        {}
func (nopTB) Fatal(args ...any)              {}
func (nopTB) Fatalf(format string, a ...any) {}

// fileHas reports whether the file holds s.
func fileHas(t *testing.T, path, s string) bool {
	t.Helper()
	b, err := os.ReadFile(path)
	return err == nil && strings.Contains(string(b), s)
}
