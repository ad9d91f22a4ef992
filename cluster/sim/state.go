package sim

import (
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// stateVersion is bumped when the saved state's shape changes incompatibly.
const stateVersion = 1

// state is the whole simulated world; it is saved as JSON after every change.
type state struct {
	Version int    `json:"version"`
	Seed    uint64 `json:"seed"`
	// Probes counts each cluster's completed probes; a probe draws from a
	// random stream named by its cluster and number, so concurrent probes
	// and a resumed lab answer exactly as an uninterrupted run.
	Probes map[cluster.Name]uint64 `json:"probes,omitempty"`
	// Serial numbers generated objects (CAs, pods) deterministically.
	Serial   uint64                         `json:"serial"`
	Clusters map[cluster.Name]*clusterState `json:"clusters"`
}

// clusterState is one simulated kind cluster.
type clusterState struct {
	// Creating is set while kind is creating the cluster: a crash leaves a
	// half-created cluster that the next create replaces.
	Creating    bool                   `json:"creating,omitempty"`
	Nodes       []node                 `json:"nodes,omitempty"`
	Secrets     map[string]secret      `json:"secrets,omitempty"`
	Cilium      *ciliumState           `json:"cilium,omitempty"`
	Deployments map[string]*deployment `json:"deployments,omitempty"`
	Services    map[string]*service    `json:"services,omitempty"`
}

func (c *clusterState) exists() bool { return c != nil && len(c.Nodes) > 0 && !c.Creating }

type node struct {
	Name  string `json:"name"`
	Role  string `json:"role"`
	IP    string `json:"ip"`
	Ready bool   `json:"ready"`
}

// secret models the Secrets whose content matters to the lab: the CA's
// identity and whether Helm owns it.
type secret struct {
	CA        string `json:"ca,omitempty"`
	HelmOwned bool   `json:"helmOwned,omitempty"`
}

// The Secrets Cilium and its certificate Job create.
const (
	secretCA         = "cilium-ca"
	secretRemoteCert = "clustermesh-apiserver-remote-cert"
)

type ciliumState struct {
	Version      string     `json:"version"`
	ClusterName  string     `json:"clusterName"`
	ClusterID    int        `json:"clusterID"`
	MaxConnected int        `json:"maxConnected"`
	AgentsReady  int        `json:"agentsReady"`
	OperatorUp   bool       `json:"operatorUp"`
	Mesh         *meshState `json:"mesh,omitempty"`
	// Hubble is set once the hubble step enabled Relay and UI.
	Hubble *hubbleState `json:"hubble,omitempty"`
}

type meshState struct {
	ServiceType    string `json:"serviceType"`
	NodePort       int    `json:"nodePort"`
	CertsReady     bool   `json:"certsReady"`
	APIServerReady bool   `json:"apiserverReady"`
	// Stopped is set while the clustermesh-apiserver Deployment is scaled
	// to zero (ScaleAPIServer): its etcd, its apiserver and its kvstoremesh
	// are gone until it is scaled back.
	Stopped  bool         `json:"stopped,omitempty"`
	Clusters []peerConfig `json:"clusters,omitempty"`
}

// up reports a clustermesh-apiserver that serves: its kvstoremesh runs and
// its etcd answers the local agents and the peer's kvstoremesh.
func (m *meshState) up() bool { return m != nil && m.APIServerReady && !m.Stopped }

// peerConfig is one clustermesh.config.clusters entry, with the two layers
// of the connection it describes: this cluster's kvstoremesh caches the
// peer's state, and the agents read it from their local apiserver.
type peerConfig struct {
	Name string   `json:"name"`
	IPs  []string `json:"ips"`
	Port int      `json:"port"`
	// TLS is set when connect had to add the peer's own CA because the
	// clusters do not share one.
	TLS bool `json:"tls,omitempty"`
	// Connected counts the agents connected to the local apiserver that
	// have picked the peer up from it.
	Connected int `json:"connected"`
	// Cache is the peer's hello-world as kvstoremesh last synced it into
	// the local etcd, and so as the local agents' load balancer sees it;
	// nil until the first sync. Like Cilium's (clustermesh-cache-ttl 0),
	// it outlives a broken link and goes only with the entry.
	Cache *cluster.Side `json:"cache,omitempty"`
}

type deployment struct {
	Replicas int    `json:"replicas"`
	Message  string `json:"message,omitempty"`
	Pods     []pod  `json:"pods,omitempty"`
	// Created counts the pods ever created for the deployment; it numbers
	// the next pod.
	Created uint64 `json:"created,omitempty"`
}

// Pod phases as the sim tracks them.
const (
	podPending     = "Pending"
	podRunning     = "Running"
	podTerminating = "Terminating"
)

type pod struct {
	Name  string `json:"name"`
	Node  string `json:"node"`
	Phase string `json:"phase"`
}

// running lists the names of the deployment's running pods, in order;
// none for a deployment that is not there.
func (d *deployment) running() []string {
	if d == nil {
		return nil
	}
	var out []string
	for _, p := range d.Pods {
		if p.Phase == podRunning {
			out = append(out, p.Name)
		}
	}
	return out
}

func (d *deployment) count(phase string) int {
	n := 0
	for _, p := range d.Pods {
		if p.Phase == phase {
			n++
		}
	}
	return n
}

func (d *deployment) workload() cluster.Workload {
	r := d.count(podRunning)
	return cluster.Workload{Present: true, Desired: d.Replicas, Ready: r, Available: r}
}

type service struct {
	Annotations map[string]string `json:"annotations,omitempty"`
}

func newState(seed uint64) *state {
	return &state{Version: stateVersion, Seed: seed, Clusters: map[cluster.Name]*clusterState{
		cluster.US: {}, cluster.EU: {},
	}}
}

// controlPlaneIP is the address other clusters reach the NodePort on: on
// kind, the control-plane container's address on the docker network.
func (c *clusterState) controlPlaneIP() string {
	for _, n := range c.Nodes {
		if n.Role == "control-plane" {
			return n.IP
		}
	}
	return ""
}

func (c *clusterState) readyNodes() int {
	n := 0
	for _, nd := range c.Nodes {
		if nd.Ready {
			n++
		}
	}
	return n
}

// peerProblem says why c's kvstoremesh cannot reach the peer p described
// by cfg, or "" when it can: the peer must exist with a serving
// clustermesh-apiserver at the configured address, and trust the same CA
// unless the entry carries the peer's CA.
func peerProblem(c, p *clusterState, cfg peerConfig) string {
	switch {
	case !p.exists():
		return fmt.Sprintf("cluster %s does not exist", cfg.Name)
	case p.Cilium == nil || p.Cilium.Mesh == nil:
		return fmt.Sprintf("Cluster Mesh is not enabled in %s", cfg.Name)
	case !p.Cilium.Mesh.up():
		return fmt.Sprintf("clustermesh-apiserver in %s is not ready", cfg.Name)
	case len(cfg.IPs) == 0 || cfg.IPs[0] != p.controlPlaneIP() || cfg.Port != p.Cilium.Mesh.NodePort:
		return fmt.Sprintf("no clustermesh-apiserver answers at %v:%d", cfg.IPs, cfg.Port)
	case !cfg.TLS && c.Secrets[secretCA].CA != p.Secrets[secretCA].CA:
		return "certificate signed by unknown authority (the clusters do not share a CA)"
	}
	return ""
}

// linkProblem says why the peer link of c (its kvstoremesh, a container of
// its clustermesh-apiserver, to the peer's apiserver) is down, or "".
func (s *state) linkProblem(c cluster.Name, cfg peerConfig) string {
	cs := s.Clusters[c]
	if cs.Cilium == nil || !cs.Cilium.Mesh.up() {
		return "the local clustermesh-apiserver (which runs kvstoremesh) is not ready"
	}
	p, ok := s.Clusters[cluster.Name(cfg.Name)]
	if !ok {
		return "unknown cluster"
	}
	return peerProblem(cs, p, cfg)
}

// agentsProblem says why c's agents do not see the peer of cfg through
// their local apiserver, or "": the apiserver must serve, and kvstoremesh
// must have synced the peer at least once.
func (s *state) agentsProblem(c cluster.Name, cfg peerConfig) string {
	cs := s.Clusters[c]
	switch {
	case cs.Cilium == nil || !cs.Cilium.Mesh.up():
		return "the local clustermesh-apiserver is not ready"
	case cfg.Cache == nil:
		msg := fmt.Sprintf("%s is not in the local clustermesh-apiserver yet (kvstoremesh has not synced it)", cfg.Name)
		if lp := s.linkProblem(c, cfg); lp != "" {
			msg += ": " + lp
		}
		return msg
	}
	return ""
}

// entry returns c's clustermesh.config.clusters entry for its peer.
func (s *state) entry(c cluster.Name) *peerConfig {
	cs := s.Clusters[c]
	if cs == nil || cs.Cilium == nil || cs.Cilium.Mesh == nil {
		return nil
	}
	for i := range cs.Cilium.Mesh.Clusters {
		if cs.Cilium.Mesh.Clusters[i].Name == string(c.Peer()) {
			return &cs.Cilium.Mesh.Clusters[i]
		}
	}
	return nil
}

// lbView is what the load balancer of cluster from works with: its own
// hello-world as it is, the peer's as the agents last received it, and
// whether they received it at all. The agents keep what they have while
// the chain is broken, as Cilium does.
func (s *state) lbView(from cluster.Name) (local, remote cluster.Side, connected bool) {
	local = s.Clusters[from].side()
	cfg := s.entry(from)
	if cfg == nil || cfg.Cache == nil || cfg.Connected == 0 {
		return local, cluster.Side{}, false
	}
	return local, *cfg.Cache, true
}

// side is the load balancer's view of one cluster's hello-world Service.
func (c *clusterState) side() cluster.Side {
	svc, ok := c.Services["hello-world"]
	if !ok || !c.exists() {
		return cluster.Side{}
	}
	sd := cluster.Side{ServiceExists: true, Settings: cluster.SettingsFromAnnotations(svc.Annotations)}
	if d, ok := c.Deployments["hello-world"]; ok {
		sd.Ready = d.count(podRunning)
	}
	return sd
}

// running counts the hello-world pods that would answer a request sent to
// them: a stale backend of a peer's cache may point at one that is gone.
func (c *clusterState) running() int {
	if d, ok := c.Deployments["hello-world"]; ok && c.exists() {
		return d.count(podRunning)
	}
	return 0
}

// status renders the cluster as the backend's Status.
func (s *state) status(n cluster.Name) cluster.Status {
	c := s.Clusters[n]
	st := cluster.Status{Cluster: n, Exists: c.exists()}
	if !st.Exists {
		return st
	}
	st.Nodes = cluster.Count{Ready: c.readyNodes(), Total: len(c.Nodes)}
	if ci := c.Cilium; ci != nil {
		st.Cilium = cluster.Cilium{
			Installed: true, Version: ci.Version, ClusterName: ci.ClusterName, ClusterID: ci.ClusterID,
			Agent:    cluster.Workload{Present: true, Desired: len(c.Nodes), Ready: ci.AgentsReady, Available: ci.AgentsReady},
			Operator: cluster.Workload{Present: true, Desired: 1, Ready: b2i(ci.OperatorUp), Available: b2i(ci.OperatorUp)},
		}
		st.Hubble = ci.Hubble.status()
		if m := ci.Mesh; m != nil {
			st.Mesh = cluster.Mesh{
				Enabled: true, ServiceType: m.ServiceType, NodePort: m.NodePort, CertsReady: m.CertsReady,
				APIServer: cluster.Workload{Present: true, Desired: 1, Ready: b2i(m.up()), Available: b2i(m.up())},
			}
			if m.Stopped {
				st.Mesh.APIServer.Desired = 0
			}
			for _, cfg := range m.Clusters {
				st.Mesh.Peers = append(st.Mesh.Peers, s.agentsView(n, cfg))
				st.Mesh.Links = append(st.Mesh.Links, s.link(n, cfg))
			}
		}
	}
	if ca, ok := c.Secrets[secretCA]; ok {
		st.Cilium.CA = ca.CA
	}
	if d, ok := c.Deployments["hello-world"]; ok {
		st.Demo.HelloWorld = d.workload()
	}
	if d, ok := c.Deployments["busybox-deployment"]; ok {
		st.Demo.Busybox = d.workload()
	}
	if svc, ok := c.Services["hello-world"]; ok {
		st.Demo.Service = cluster.ServiceStatus{Exists: true, Settings: cluster.SettingsFromAnnotations(svc.Annotations)}
	}
	return st
}

// agentsView is the peer of cfg as n's agents report it: every agent has
// it configured; those connected to the local apiserver get it from
// kvstoremesh's cache there.
func (s *state) agentsView(n cluster.Name, cfg peerConfig) cluster.Peer {
	agents := s.Clusters[n].Cilium.AgentsReady
	p := cluster.Peer{Name: cluster.Name(cfg.Name), Agents: agents, Configured: agents, ViaKVStoreMesh: agents}
	if p.Problem = s.agentsProblem(n, cfg); p.Problem == "" {
		p.Connected = min(cfg.Connected, agents)
	}
	return p
}

// link is n's kvstoremesh connection to the peer of cfg, as
// `kvstoremesh-dbg status` reports it.
func (s *state) link(n cluster.Name, cfg peerConfig) cluster.PeerLink {
	l := cluster.PeerLink{Name: cluster.Name(cfg.Name)}
	if l.Status = s.linkProblem(n, cfg); l.Status != "" {
		return l
	}
	l.Connected, l.Ready, l.Synced = true, cfg.Cache != nil, cfg.Cache != nil
	if l.Synced {
		l.Status = fmt.Sprintf("connected to https://%s.mesh.cilium.io:%d, all resources synced", cfg.Name, cfg.Port)
	} else {
		l.Status = fmt.Sprintf("connected to https://%s.mesh.cilium.io:%d, synchronising", cfg.Name, cfg.Port)
	}
	return l
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
