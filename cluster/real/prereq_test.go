package real

import (
	"context"
	"errors"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// missingOf returns the prerequisite sentinel err wraps, or nil.
func missingOf(err error) error {
	for _, s := range cluster.Prerequisites() {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// TestPrerequisiteSentinels checks, on client-go fakes, that each
// operation says what is missing with the contract's sentinel (which the
// steps turn into "run step N first") and names no step and no flag.
func TestPrerequisiteSentinels(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Cilium CA")
	bare := func() *fakeCluster { return newFakeCluster(append(kindNodes(cluster.US), kubeSystem())...) }
	cases := []struct {
		name string
		run  func(t *testing.T) error
		want error
	}{
		{"no cluster: no kubeconfig of the lab's", func(t *testing.T) error {
			tb := newTestBackend(t, "", nil, nil, func(o *Options) { o.Clients = nil })
			return tb.InstallCilium(ctx, cluster.US, cluster.Discard)
		}, cluster.ErrNoCluster},
		{"no cilium: enable finds no release", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), nil).EnableClusterMesh(ctx, cluster.US, cluster.Discard)
		}, cluster.ErrNoCilium},
		{"no cilium: wait finds no DaemonSet", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), nil).WaitCilium(ctx, cluster.US, cluster.Discard)
		}, cluster.ErrNoCilium},
		{"no cilium: share finds no CA", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), bare()).ShareCA(ctx, cluster.US, cluster.EU, cluster.Discard)
		}, cluster.ErrNoCilium},
		{"no cilium: connect finds no cilium-config", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), meshCluster(t, cluster.EU, 2, ca)).Connect(ctx, cluster.EU, cluster.US, cluster.Discard)
		}, cluster.ErrNoCilium},
		{"mesh not enabled: connect finds no clustermesh-apiserver", func(t *testing.T) error {
			us := meshCluster(t, cluster.US, 1, ca)
			us.kc.CoreV1().Services(namespace).Delete(ctx, meshAPIServer, metav1.DeleteOptions{})
			return newTestBackend(t, "", us, meshCluster(t, cluster.EU, 2, ca)).Connect(ctx, cluster.US, cluster.EU, cluster.Discard)
		}, cluster.ErrMeshNotEnabled},
		{"mesh not enabled: connect finds no remote certificate", func(t *testing.T) error {
			us := meshCluster(t, cluster.US, 1, ca)
			us.kc.CoreV1().Secrets(namespace).Delete(ctx, remoteCert, metav1.DeleteOptions{})
			return newTestBackend(t, "", us, meshCluster(t, cluster.EU, 2, ca)).Connect(ctx, cluster.US, cluster.EU, cluster.Discard)
		}, cluster.ErrMeshNotEnabled},
		{"not connected: wait finds no peer configured", func(t *testing.T) error {
			tb := newTestBackend(t, "", meshCluster(t, cluster.US, 1, ca), nil)
			tb.markCreated(t, cluster.US)
			return tb.WaitConnected(ctx, cluster.US, cluster.Discard)
		}, cluster.ErrNotConnected},
		{"no demo: annotate", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), nil).ConfigureService(ctx, cluster.US, cluster.ServiceChange{Global: cluster.Bool(true)}, cluster.Discard)
		}, cluster.ErrNoDemo},
		{"no demo: scale", func(t *testing.T) error {
			return newTestBackend(t, "", bare(), nil).Scale(ctx, cluster.US, 1, cluster.Discard)
		}, cluster.ErrNoDemo},
		{"no demo: probe", func(t *testing.T) error {
			_, err := newTestBackend(t, "", bare(), nil).Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 3}, nil)
			return err
		}, cluster.ErrNoDemo},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run(t)
			if got := missingOf(err); got != tc.want {
				t.Fatalf("error %v: sentinel %v, want %v", err, got, tc.want)
			}
			assertNoStepsOrFlags(t, err)
		})
	}
}

// assertNoStepsOrFlags fails when an error or its hint names one of the
// lab's steps or command-line flags: the backend does not know them.
func assertNoStepsOrFlags(t *testing.T, err error) {
	t.Helper()
	for _, text := range []string{err.Error(), cluster.HintOf(err)} {
		for _, banned := range []string{"step", "--cilium", "--us-", "--eu-", "--fresh", "--lab-dir", "--backend"} {
			if strings.Contains(text, banned) {
				t.Errorf("%q names %q", text, banned)
			}
		}
	}
}
