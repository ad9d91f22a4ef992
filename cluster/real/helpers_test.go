package real

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chartutil"
	kubefake "helm.sh/helm/v3/pkg/kube/fake"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/releaseutil"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	appsv1 "k8s.io/api/apps/v1"
	autoscalingv1 "k8s.io/api/autoscaling/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"
	k8stesting "k8s.io/client-go/testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// chartsDir finds ../shared/charts beside the repository (the tests run in
// <repo>/cluster/real); tests that need it skip, saying why, without it.
func chartsDir(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "charts"))
	if err == nil {
		if _, err = os.Stat(dir); err == nil {
			return dir
		}
	}
	t.Skipf("the published Cilium charts are not at %s (../shared/charts beside the repository): %v", dir, err)
	return ""
}

// chartVersions are the published charts shared/charts holds.
var chartVersions = []string{"1.19.5", "1.18.11", "1.20.0"}

func chartPath(t testing.TB, version string) string {
	return filepath.Join(chartsDir(t), "cilium-"+version+".tgz")
}

// kindCapabilities is what Helm would discover on the lab's kind nodes (the pinned v1.35.8 image);
// Helm's built-in default (1.20) is older than the chart allows.
func kindCapabilities() *chartutil.Capabilities {
	caps := chartutil.DefaultCapabilities.Copy()
	caps.KubeVersion = chartutil.KubeVersion{Version: "v1.35.8", Major: "1", Minor: "35"}
	return caps
}

// memHelm keeps each cluster's releases in Helm's in-memory driver and
// sends resources to Helm's fake kube client, which accepts them.
type memHelm struct {
	mu     sync.Mutex
	stores map[cluster.Name]*storage.Storage
	// onDeploy, when set, sees each release as Helm records it deployed,
	// before the install or upgrade returns: where Helm would have applied
	// its objects to the cluster.
	onDeploy func(c cluster.Name, rel *release.Release) error
}

// deployHook is Helm's in-memory driver, calling memHelm.onDeploy.
type deployHook struct {
	*driver.Memory
	c cluster.Name
	m *memHelm
}

func (d deployHook) Create(key string, rls *release.Release) error {
	return d.hook(rls, func() error { return d.Memory.Create(key, rls) })
}

func (d deployHook) Update(key string, rls *release.Release) error {
	return d.hook(rls, func() error { return d.Memory.Update(key, rls) })
}

func (d deployHook) hook(rls *release.Release, store func() error) error {
	if d.m.onDeploy != nil && rls.Info != nil && rls.Info.Status == release.StatusDeployed {
		if err := d.m.onDeploy(d.c, rls); err != nil {
			return err
		}
	}
	return store()
}

func (m *memHelm) factory(c cluster.Name, debug func(string, ...any)) (*action.Configuration, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.stores == nil {
		m.stores = map[cluster.Name]*storage.Storage{}
	}
	s, ok := m.stores[c]
	if !ok {
		d := driver.NewMemory()
		d.SetNamespace(namespace)
		s = storage.Init(deployHook{Memory: d, c: c, m: m})
		m.stores[c] = s
	}
	return &action.Configuration{
		Releases:     s,
		KubeClient:   &kubefake.PrintingKubeClient{Out: io.Discard},
		Capabilities: kindCapabilities(),
		Log:          debug,
	}, nil
}

// last returns the last release of cluster c.
func (m *memHelm) last(t testing.TB, c cluster.Name) *release.Release {
	t.Helper()
	cfg, _ := m.factory(c, func(string, ...any) {})
	rel, err := currentRelease(cfg)
	if err != nil || rel == nil {
		t.Fatalf("no release cilium in %s: %v", c, err)
	}
	return rel
}

// manifestObjects decodes a release's manifest into typed objects.
func manifestObjects(t testing.TB, rel *release.Release) []runtime.Object {
	t.Helper()
	return decodeManifest(rel.Manifest)
}

// decodeManifest decodes the core kinds of a rendered manifest.
func decodeManifest(manifest string) []runtime.Object {
	var out []runtime.Object
	for _, doc := range releaseutil.SplitManifests(manifest) {
		if strings.TrimSpace(doc) == "" {
			continue
		}
		obj, _, err := scheme.Codecs.UniversalDeserializer().Decode([]byte(doc), nil, nil)
		if err != nil {
			// CRD-based kinds (none in the lab's configuration) are skipped.
			continue
		}
		out = append(out, obj)
	}
	return out
}

// find returns the rendered object of the given type and name.
func find[T runtime.Object](t testing.TB, objs []runtime.Object, name string) T {
	t.Helper()
	var zero T
	for _, o := range objs {
		if typed, ok := o.(T); ok {
			if m, err := metaName(o); err == nil && m == name {
				return typed
			}
		}
	}
	t.Fatalf("rendered manifest has no %T %q", zero, name)
	return zero
}

func metaName(o runtime.Object) (string, error) {
	acc, ok := o.(metav1.Object)
	if !ok {
		return "", errors.New("no metadata")
	}
	return acc.GetName(), nil
}

// testCA is a CA generated in the test, as the chart or certgen would.
type testCA struct {
	cert    *x509.Certificate
	key     crypto.Signer
	certPEM []byte
	keyPEM  []byte
}

func newTestCA(t testing.TB, cn string) *testCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(time.Now().UnixNano()),
		Subject:               pkix.Name{CommonName: cn},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign | x509.KeyUsageDigitalSignature,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, _ := x509.ParseCertificate(der)
	kder, _ := x509.MarshalECPrivateKey(key)
	return &testCA{cert: cert, key: key,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		keyPEM:  pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder})}
}

// caFromSecret loads a cilium-ca Secret (the chart's genCA writes an RSA
// key) so the test can sign the certificates certgen would.
func caFromSecret(t testing.TB, s *corev1.Secret) *testCA {
	t.Helper()
	ca, err := loadCA(s)
	if err != nil {
		t.Fatal(err)
	}
	return ca
}

// loadCA is caFromSecret for callers that cannot fail a test: goroutines.
func loadCA(s *corev1.Secret) (*testCA, error) {
	cert, err := parseCert(s.Data["ca.crt"])
	if err != nil {
		return nil, fmt.Errorf("ca.crt: %w", err)
	}
	blk, _ := pem.Decode(s.Data["ca.key"])
	if blk == nil {
		return nil, errors.New("ca.key is not PEM")
	}
	var key crypto.Signer
	if k, err := x509.ParsePKCS1PrivateKey(blk.Bytes); err == nil {
		key = k
	} else if k, err := x509.ParsePKCS8PrivateKey(blk.Bytes); err == nil {
		key = k.(crypto.Signer)
	} else if k, err := x509.ParseECPrivateKey(blk.Bytes); err == nil {
		key = k
	} else {
		return nil, fmt.Errorf("ca.key: %w", err)
	}
	return &testCA{cert: cert, key: key, certPEM: s.Data["ca.crt"], keyPEM: s.Data["ca.key"]}, nil
}

// issue signs a client certificate, as certgen does for remote-cert.
func (ca *testCA) issue(t testing.TB, cn string) (certPEM, keyPEM []byte) {
	t.Helper()
	certPEM, keyPEM, err := ca.sign(cn)
	if err != nil {
		t.Fatal(err)
	}
	return certPEM, keyPEM
}

// sign is issue for callers that cannot fail a test.
func (ca *testCA) sign(cn string) (certPEM, keyPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(time.Now().UnixNano()),
		Subject:      pkix.Name{CommonName: cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth, x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		return nil, nil, err
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)}), nil
}

// caSecretOf builds a cilium-ca Secret as the chart renders it.
func (ca *testCA) secret() *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: caSecret, Namespace: namespace,
			Labels:      map[string]string{"app.kubernetes.io/managed-by": "Helm", "cilium.io/helm-template-non-idempotent": "true"},
			Annotations: map[string]string{"meta.helm.sh/release-name": "cilium", "meta.helm.sh/release-namespace": "kube-system"}},
		Data: map[string][]byte{"ca.crt": ca.certPEM, "ca.key": ca.keyPEM},
	}
}

// certSecret builds one of the clustermesh-apiserver-*-cert Secrets the
// certificate Job creates, signed by ca.
func (ca *testCA) certSecret(t testing.TB, name, cn string) *corev1.Secret {
	crt, key := ca.issue(t, cn)
	return ca.tlsSecret(name, crt, key)
}

// tlsSecret wraps a signed certificate and its key as certgen stores them.
func (ca *testCA) tlsSecret(name string, crt, key []byte) *corev1.Secret {
	return &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace},
		Type:       corev1.SecretTypeTLS,
		Data:       map[string][]byte{"ca.crt": ca.certPEM, "tls.crt": crt, "tls.key": key},
	}
}

// kindNodes are the seed's three nodes with the addresses kind gives them
// on the docker network, Ready.
func kindNodes(c cluster.Name) []runtime.Object {
	base := 2 + 3*c.Index()
	var out []runtime.Object
	for i, name := range []string{"control-plane", "worker", "worker2"} {
		n := &corev1.Node{
			ObjectMeta: metav1.ObjectMeta{Name: string(c) + "-" + name, Labels: map[string]string{"kubernetes.io/hostname": string(c) + "-" + name}},
			Status: corev1.NodeStatus{
				Addresses:  []corev1.NodeAddress{{Type: corev1.NodeInternalIP, Address: fmt.Sprintf("172.18.0.%d", base+i)}, {Type: corev1.NodeHostName, Address: string(c) + "-" + name}},
				Conditions: []corev1.NodeCondition{{Type: corev1.NodeReady, Status: corev1.ConditionTrue}},
			},
		}
		if i == 0 {
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
		}
		out = append(out, n)
	}
	return out
}

func kubeSystem() runtime.Object {
	return &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: namespace}}
}

// fakeCluster is one cluster for the tests: a fake clientset that serves
// the scale subresource, and a controller loop that marks Deployments and
// DaemonSets ready as kube-controller-manager and the kubelets would.
type fakeCluster struct {
	kc *fake.Clientset
	// gate, when set, holds a Deployment back until it returns true (its
	// pods exist), as availability follows the pods in a real cluster.
	gate func(ctx context.Context, d *appsv1.Deployment) bool
}

func newFakeCluster(objs ...runtime.Object) *fakeCluster {
	kc := fake.NewClientset(objs...)
	// The object tracker has no scale subresource: serve it from the
	// Deployment, as the API server does.
	kc.PrependReactor("get", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		name := a.(k8stesting.GetAction).GetName()
		obj, err := kc.Tracker().Get(appsv1.SchemeGroupVersion.WithResource("deployments"), a.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment)
		return true, &autoscalingv1.Scale{ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: d.Namespace, ResourceVersion: d.ResourceVersion},
			Spec: autoscalingv1.ScaleSpec{Replicas: *d.Spec.Replicas}, Status: autoscalingv1.ScaleStatus{Replicas: d.Status.Replicas}}, nil
	})
	kc.PrependReactor("update", "deployments", func(a k8stesting.Action) (bool, runtime.Object, error) {
		if a.GetSubresource() != "scale" {
			return false, nil, nil
		}
		sc := a.(k8stesting.UpdateAction).GetObject().(*autoscalingv1.Scale)
		gvr := appsv1.SchemeGroupVersion.WithResource("deployments")
		obj, err := kc.Tracker().Get(gvr, a.GetNamespace(), sc.Name)
		if err != nil {
			return true, nil, err
		}
		d := obj.(*appsv1.Deployment).DeepCopy()
		d.Spec.Replicas = ptr(sc.Spec.Replicas)
		d.Generation++
		if err := kc.Tracker().Update(gvr, d, a.GetNamespace()); err != nil {
			return true, nil, err
		}
		return true, sc, nil
	})
	return &fakeCluster{kc: kc}
}

// settle marks every Deployment and DaemonSet rolled out, once.
func (f *fakeCluster) settle(ctx context.Context) {
	deps, _ := f.kc.AppsV1().Deployments("").List(ctx, metav1.ListOptions{})
	for _, d := range deps.Items {
		r := int32(1)
		if d.Spec.Replicas != nil {
			r = *d.Spec.Replicas
		}
		if d.Status.ObservedGeneration == d.Generation && d.Status.Replicas == r && d.Status.AvailableReplicas == r {
			continue
		}
		if f.gate != nil && !f.gate(ctx, &d) {
			continue
		}
		d.Status = appsv1.DeploymentStatus{ObservedGeneration: d.Generation, Replicas: r, UpdatedReplicas: r, ReadyReplicas: r, AvailableReplicas: r}
		f.kc.AppsV1().Deployments(d.Namespace).UpdateStatus(ctx, &d, metav1.UpdateOptions{})
	}
	dss, _ := f.kc.AppsV1().DaemonSets("").List(ctx, metav1.ListOptions{})
	for _, ds := range dss.Items {
		if ds.Status.NumberReady == 3 {
			continue
		}
		ds.Status = appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, CurrentNumberScheduled: 3, NumberReady: 3, NumberAvailable: 3, UpdatedNumberScheduled: 3, ObservedGeneration: ds.Generation}
		f.kc.AppsV1().DaemonSets(ds.Namespace).UpdateStatus(ctx, &ds, metav1.UpdateOptions{})
	}
}

// runController settles the cluster every few milliseconds until the test ends.
func (f *fakeCluster) runController(t testing.TB) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		tick := time.NewTicker(3 * time.Millisecond)
		defer tick.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-tick.C:
				f.settle(ctx)
			}
		}
	}()
}

// syncRelease creates in the fake cluster the core objects a release
// rendered, as Helm's apply would (see applyRelease).
func syncRelease(t testing.TB, kc *fake.Clientset, rel *release.Release) {
	t.Helper()
	if err := applyRelease(context.Background(), kc, decodeManifest(rel.Manifest)); err != nil {
		t.Fatalf("apply release %d: %v", rel.Version, err)
	}
}

// fakeExec answers exec calls from recorded outputs, keyed by
// "cluster/pod/container"; a missing key is an exec error.
type fakeExec struct {
	mu      sync.Mutex
	outputs map[string]string
	errs    map[string]error
	calls   []string
	chunk   int // write outputs in pieces of this size, to split lines
	// fn, when set, answers instead of the recorded outputs.
	fn func(key string, cmd []string, stdout io.Writer) error
}

func (f *fakeExec) set(key, out string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.outputs == nil {
		f.outputs = map[string]string{}
	}
	f.outputs[key] = out
}

func (f *fakeExec) Exec(ctx context.Context, c cluster.Name, ns, pod, container string, cmd []string, stdout io.Writer) error {
	key := fmt.Sprintf("%s/%s/%s", c, pod, container)
	f.mu.Lock()
	f.calls = append(f.calls, key+" "+strings.Join(cmd, " "))
	out, ok := f.outputs[key]
	err := f.errs[key]
	chunk := f.chunk
	fn := f.fn
	f.mu.Unlock()
	if fn != nil {
		return fn(key, cmd, stdout)
	}
	if !ok && err == nil {
		return fmt.Errorf("command terminated with exit code 126: no recorded output for %s", key)
	}
	if chunk <= 0 {
		chunk = len(out) + 1
	}
	for b := []byte(out); len(b) > 0; {
		n := min(chunk, len(b))
		stdout.Write(b[:n])
		b = b[n:]
	}
	return err
}

func (f *fakeExec) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.calls)
}

// lines collects log lines, safely from several goroutines.
type lines struct {
	mu sync.Mutex
	l  []string
}

func (l *lines) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.l = append(l.l, fmt.Sprintf(format, args...))
}

func (l *lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.l, "\n")
}

func (l *lines) has(sub string) bool { return strings.Contains(l.String(), sub) }

// testBackend is a backend over two fake clusters, Helm in memory and
// recorded exec outputs.
type testBackend struct {
	*Backend
	clusters map[cluster.Name]*fakeCluster
	helm     *memHelm
	exec     *fakeExec
	dir      string
}

func newTestBackend(t testing.TB, chart string, us, eu *fakeCluster, tweak ...func(*Options)) *testBackend {
	t.Helper()
	tb := &testBackend{clusters: map[cluster.Name]*fakeCluster{cluster.US: us, cluster.EU: eu}, helm: &memHelm{}, exec: &fakeExec{}, dir: t.TempDir()}
	var diag bytes.Buffer
	opts := Options{
		Dir:       tb.dir,
		ChartPath: chart,
		Clients: func(ctx context.Context, c cluster.Name) (*Clients, error) {
			fc, ok := tb.clusters[c]
			if !ok || fc == nil {
				return nil, fmt.Errorf("no fake cluster %s", c)
			}
			return &Clients{Kube: fc.kc}, nil
		},
		Helm:           tb.helm.factory,
		Exec:           tb.exec,
		Poll:           2 * time.Millisecond,
		StatusCacheTTL: time.Hour,
		DiagLog:        &lockedBuffer{b: &diag},
		Timeouts:       Timeouts{Cilium: time.Minute, Mesh: time.Minute, Connect: time.Minute, Rollout: time.Minute, APICall: time.Minute},
		Preflight:      func(context.Context) []cluster.Check { return nil },
		// A cgroup v2 docker engine: the tests never ask the machine's.
		Engine: func(context.Context) (doctor.Engine, error) {
			return doctor.Engine{Name: "docker", CgroupVersion: "2"}, nil
		},
	}
	for _, f := range tweak {
		f(&opts)
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tb.Backend = b
	return tb
}

type lockedBuffer struct {
	mu sync.Mutex
	b  *bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

// markCreated records c as created by this lab, with a kubeconfig, so
// Status reads it.
func (tb *testBackend) markCreated(t testing.TB, c cluster.Name) {
	t.Helper()
	if err := tb.updateRecord(func(r *record) { r.Clusters[c] = recordEntry{Created: time.Now(), Complete: true} }); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(tb.kubeconfigPath(c), []byte("apiVersion: v1\nkind: Config\n"), 0o600); err != nil {
		t.Fatal(err)
	}
}

func copyFile(t testing.TB, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, b, 0o600); err != nil {
		t.Fatal(err)
	}
}

// actionConfig shortens Helm's configuration type in factories.
type actionConfig = action.Configuration
