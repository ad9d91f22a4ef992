package real

import (
	"context"
	"crypto/sha256"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/clustertest"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// fakeLab is the real backend over the world of lab_test.go: two fake
// clusters, kind, Helm in memory and the recorded mesh.
type fakeLab struct {
	*Backend
	w *world
}

// newFakeLab builds the backend on a new world with the published chart.
// The fake clusters are reached only through the lab's kubeconfig of each,
// as in production: one not created has none, and the backend reports it
// missing with its own words.
func newFakeLab(t *testing.T, chart string) *fakeLab {
	t.Helper()
	w := newWorld(t)
	var b *Backend
	b, err := New(Options{
		Dir:       t.TempDir(),
		ChartPath: chart,
		Engine: func(context.Context) (doctor.Engine, error) {
			return doctor.Engine{Name: "docker", CgroupVersion: "2"}, nil
		},
		Clients: func(ctx context.Context, c cluster.Name) (*Clients, error) {
			if _, err := b.clientConfig(c); err != nil {
				return nil, err
			}
			return &Clients{Kube: w.fcs[c].kc}, nil
		},
		Helm:           w.helm.factory,
		Kind:           func(context.Context, cluster.Logger) (KindProvider, error) { return w.kind, nil },
		Exec:           w,
		Preflight:      func(context.Context) []cluster.Check { return nil },
		Poll:           2 * time.Millisecond,
		StatusCacheTTL: -1,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &fakeLab{Backend: b, w: w}
}

// The real backend, on client-go fakes with Helm rendering the published
// chart into memory, shows every behaviour the contract asks of a backend.
func TestConformance(t *testing.T) {
	chart := chartPath(t, DefaultCiliumVersion)
	clustertest.Run(t, clustertest.Harness{
		New: func(t *testing.T) cluster.Backend { return newFakeLab(t, chart) },
		Break: func(t *testing.T, b cluster.Backend, f clustertest.Fault) func() {
			return b.(*fakeLab).w.breakEU(t, f)
		},
		Snapshot: func(t *testing.T, b cluster.Backend) string { return b.(*fakeLab).w.snapshot(t) },
	})
}

// breakEU makes fault f in EU, holding the stand-ins (certgen would issue
// a deleted certificate again) until the returned restore.
func (w *world) breakEU(t *testing.T, f clustertest.Fault) (restore func()) {
	t.Helper()
	ctx := context.Background()
	w.mu.Lock()
	kc := w.fcs[cluster.EU].kc
	switch f {
	case clustertest.SameClusterID, clustertest.SameClusterName:
		key, value := "cluster-id", fmt.Sprint(cluster.US.ID())
		if f == clustertest.SameClusterName {
			key, value = "cluster-name", string(cluster.US)
		}
		cm, err := kc.CoreV1().ConfigMaps(namespace).Get(ctx, ciliumConfig, metav1.GetOptions{})
		if err != nil {
			w.mu.Unlock()
			t.Fatal(err)
		}
		was := cm.Data[key]
		set := func(v string) {
			cm.Data[key] = v
			if _, err := kc.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{}); err != nil {
				t.Error(err)
			}
		}
		set(value)
		return func() { set(was); w.mu.Unlock() }
	case clustertest.NoRemoteCert:
		sec, err := kc.CoreV1().Secrets(namespace).Get(ctx, remoteCert, metav1.GetOptions{})
		if err == nil {
			err = kc.CoreV1().Secrets(namespace).Delete(ctx, remoteCert, metav1.DeleteOptions{})
		}
		if err != nil {
			w.mu.Unlock()
			t.Fatal(err)
		}
		return func() {
			sec.ResourceVersion = ""
			if _, err := kc.CoreV1().Secrets(namespace).Create(ctx, sec, metav1.CreateOptions{}); err != nil {
				t.Error(err)
			}
			w.mu.Unlock()
		}
	}
	w.mu.Unlock()
	t.Fatalf("no such fault %q", f)
	return nil
}

// snapshot renders what the clusters hold beyond the status: each Helm
// release's revisions, and what the backend writes itself (Secrets and
// ConfigMaps of kube-system, the demo's Deployments and Services).
func (w *world) snapshot(t *testing.T) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, c := range cluster.Names() {
		cfg, err := w.helm.factory(c, func(string, ...any) {})
		if err != nil {
			t.Fatal(err)
		}
		revs, _ := cfg.Releases.History(releaseName)
		out = append(out, fmt.Sprintf("%s: %d Helm revisions", c, len(revs)))
		kc := w.fcs[c].kc
		secrets, err := kc.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range secrets.Items {
			out = append(out, fmt.Sprintf("%s: secret %s %x", c, s.Name, hashData(s.Data)))
		}
		cms, err := kc.CoreV1().ConfigMaps(namespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cm := range cms.Items {
			data := make(map[string][]byte, len(cm.Data))
			for k, v := range cm.Data {
				data[k] = []byte(v)
			}
			out = append(out, fmt.Sprintf("%s: configmap %s %x", c, cm.Name, hashData(data)))
		}
		deps, err := kc.AppsV1().Deployments(demoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range deps.Items {
			out = append(out, fmt.Sprintf("%s: deployment %s replicas %d", c, d.Name, *d.Spec.Replicas))
		}
		svcs, err := kc.CoreV1().Services(demoNamespace).List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range svcs.Items {
			out = append(out, fmt.Sprintf("%s: service %s %v", c, s.Name, s.Annotations))
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// hashData digests a Secret's or ConfigMap's data, in key order.
func hashData(data map[string][]byte) []byte {
	h := sha256.New()
	keys := make([]string, 0, len(data))
	for k := range data {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		fmt.Fprintf(h, "%s=%x;", k, data[k])
	}
	return h.Sum(nil)
}
