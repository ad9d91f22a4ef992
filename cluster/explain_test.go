package cluster

import (
	"strings"
	"testing"
)

// The explanation reads the load balancer's view from any backend's status.
func TestDescribeFromStatus(t *testing.T) {
	us := Status{Cluster: US, Exists: true,
		Mesh: Mesh{Peers: []Peer{{Name: EU, Configured: 3, Connected: 3, Agents: 3}}},
		Demo: DemoStatus{HelloWorld: Workload{Present: true, Desired: 1, Ready: 1}, Service: ServiceStatus{Exists: true, Settings: Settings{Global: true, Shared: true, Affinity: AffinityLocal}}}}
	eu := Status{Cluster: EU, Exists: true,
		Demo: DemoStatus{HelloWorld: Workload{Present: true, Desired: 2, Ready: 2}, Service: ServiceStatus{Exists: true, Settings: Settings{Global: true, Shared: true, Affinity: AffinityNone}}}}
	if !ConnectedOf(us) || ConnectedOf(eu) {
		t.Errorf("ConnectedOf: us %t, eu %t", ConnectedOf(us), ConnectedOf(eu))
	}
	if s := SideOf(eu); s != (Side{ServiceExists: true, Settings: eu.Demo.Service.Settings, Ready: 2}) {
		t.Errorf("SideOf(eu) = %+v", s)
	}
	if s := SideOf(Status{Cluster: US}); s != (Side{}) {
		t.Errorf("SideOf(missing cluster) = %+v", s)
	}
	cases := []struct {
		from         Name
		local, other Status
		want         string
	}{
		{US, us, eu, "1 US pod(s), 0 EU pod(s): affinity local keeps requests home"},
		{EU, eu, us, "2 EU pod(s), 0 US pod(s): EU's agents do not see US (not connected)"},
	}
	for _, tc := range cases {
		got := Describe(tc.from, SideOf(tc.local), SideOf(tc.other), ConnectedOf(tc.local))
		if !strings.HasPrefix(got, tc.want) {
			t.Errorf("Describe(%s) = %q, want %q...", tc.from, got, tc.want)
		}
	}
	us.Demo.HelloWorld.Ready = 0
	eu.Demo.Service.Shared = false
	if got := Reason(US, SideOf(us), SideOf(eu), true); !strings.Contains(got, "shared=false") || !strings.HasSuffix(got, "every request fails") {
		t.Errorf("Reason with nothing to pick: %q", got)
	}
}

// The status panes name each layer: the peer link and the agents.
func TestMeshLines(t *testing.T) {
	for _, tc := range []struct {
		link PeerLink
		want string
	}{
		{PeerLink{Name: EU, Connected: true, Ready: true, Synced: true}, "peer link us→eu: up, synced"},
		{PeerLink{Name: EU, Connected: true, Status: "synchronising"}, "peer link us→eu: connected, not synced yet: synchronising"},
		{PeerLink{Name: EU, Status: "clustermesh-apiserver in eu is not ready"}, "peer link us→eu: down: clustermesh-apiserver in eu is not ready"},
		{PeerLink{Name: EU, Unknown: true, Status: "cannot read kvstoremesh: x"}, "peer link us→eu: unknown: cannot read kvstoremesh: x"},
	} {
		if got := tc.link.String(US); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.link, got, tc.want)
		}
	}
	p := Peer{Name: EU, Configured: 3, Connected: 2, Agents: 3, ViaKVStoreMesh: 3}
	if got := p.AgentsLine(); got != "agents 2/3 connected · eu via kvstoremesh" {
		t.Errorf("AgentsLine = %q", got)
	}
	m := Mesh{Links: []PeerLink{{Name: EU}}}
	if _, ok := m.Link(EU); !ok {
		t.Error("Link(eu) not found")
	}
	if _, ok := m.Link(US); ok {
		t.Error("Link(us) found")
	}
}
