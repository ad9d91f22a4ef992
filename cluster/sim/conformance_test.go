package sim

import (
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/clustertest"
)

// The simulated mesh shows every behaviour the contract asks of a backend.
func TestConformance(t *testing.T) {
	clustertest.Run(t, clustertest.Harness{
		New: func(t *testing.T) cluster.Backend { return newTestBackend(t, Options{Seed: 1}) },
		Break: func(t *testing.T, cb cluster.Backend, f clustertest.Fault) func() {
			b := cb.(*Backend)
			b.mu.Lock()
			defer b.mu.Unlock()
			eu := b.st.Clusters[cluster.EU]
			switch f {
			case clustertest.SameClusterID:
				id := eu.Cilium.ClusterID
				eu.Cilium.ClusterID = cluster.US.ID()
				return b.locked(func() { eu.Cilium.ClusterID = id })
			case clustertest.SameClusterName:
				name := eu.Cilium.ClusterName
				eu.Cilium.ClusterName = string(cluster.US)
				return b.locked(func() { eu.Cilium.ClusterName = name })
			case clustertest.NoRemoteCert:
				cert := eu.Secrets[secretRemoteCert]
				delete(eu.Secrets, secretRemoteCert)
				return b.locked(func() { eu.Secrets[secretRemoteCert] = cert })
			}
			t.Fatalf("no such fault %q", f)
			return nil
		},
		// The whole state, as sim-state.json holds it.
		Snapshot: func(t *testing.T, b cluster.Backend) string { return stateJSON(t, b.(*Backend)) },
		After: func(t *testing.T, cb cluster.Backend, p clustertest.Phase) {
			b := cb.(*Backend)
			if p == clustertest.Installed && !b.st.Clusters[cluster.EU].Secrets[secretCA].HelmOwned {
				t.Error("the copied cilium-ca lost Helm's ownership")
			}
		},
	})
}

// locked returns fn run under the backend's lock.
func (b *Backend) locked(fn func()) func() {
	return func() {
		b.mu.Lock()
		defer b.mu.Unlock()
		fn()
	}
}
