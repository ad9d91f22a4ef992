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
}

type meshState struct {
	ServiceType    string       `json:"serviceType"`
	NodePort       int          `json:"nodePort"`
	CertsReady     bool         `json:"certsReady"`
	APIServerReady bool         `json:"apiserverReady"`
	Clusters       []peerConfig `json:"clusters,omitempty"`
}

// peerConfig is one clustermesh.config.clusters entry, plus how many agents
// have established the connection it describes.
type peerConfig struct {
	Name string   `json:"name"`
	IPs  []string `json:"ips"`
	Port int      `json:"port"`
	// TLS is set when connect had to add the peer's own CA because the
	// clusters do not share one.
	TLS       bool `json:"tls,omitempty"`
	Connected int  `json:"connected"`
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

func (s *state) validate() error {
	if s.Version != stateVersion {
		return fmt.Errorf("state format %d, want %d", s.Version, stateVersion)
	}
	for _, n := range cluster.Names() {
		if s.Clusters[n] == nil {
			return fmt.Errorf("cluster %s missing", n)
		}
	}
	return nil
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

// peerProblem says why agents of c cannot connect to the peer p described by
// cfg, or "" when they can: the peer must exist with a running
// clustermesh-apiserver at the configured address, and trust the same CA
// unless the entry carries the peer's CA.
func peerProblem(c, p *clusterState, cfg peerConfig) string {
	switch {
	case !p.exists():
		return fmt.Sprintf("cluster %s does not exist", cfg.Name)
	case p.Cilium == nil || p.Cilium.Mesh == nil:
		return fmt.Sprintf("Cluster Mesh is not enabled in %s", cfg.Name)
	case !p.Cilium.Mesh.APIServerReady:
		return fmt.Sprintf("clustermesh-apiserver in %s is not ready", cfg.Name)
	case len(cfg.IPs) == 0 || cfg.IPs[0] != p.controlPlaneIP() || cfg.Port != p.Cilium.Mesh.NodePort:
		return fmt.Sprintf("no clustermesh-apiserver answers at %v:%d", cfg.IPs, cfg.Port)
	case !cfg.TLS && c.Secrets[secretCA].CA != p.Secrets[secretCA].CA:
		return "certificate signed by unknown authority (the clusters do not share a CA)"
	}
	return ""
}

// connectedTo reports whether c's agents are connected to the peer's
// clustermesh-apiserver right now.
func (s *state) connectedTo(from cluster.Name) bool {
	c, p := s.Clusters[from], s.Clusters[from.Peer()]
	if c.Cilium == nil || c.Cilium.Mesh == nil {
		return false
	}
	for _, cfg := range c.Cilium.Mesh.Clusters {
		if cfg.Name == string(from.Peer()) {
			return cfg.Connected > 0 && peerProblem(c, p, cfg) == ""
		}
	}
	return false
}

// side is the load balancer's view of one cluster's hello-world Service.
func (c *clusterState) side() Side {
	svc, ok := c.Services["hello-world"]
	if !ok || !c.exists() {
		return Side{}
	}
	sd := Side{ServiceExists: true, Settings: cluster.SettingsFromAnnotations(svc.Annotations)}
	if d, ok := c.Deployments["hello-world"]; ok {
		sd.Ready = d.count(podRunning)
	}
	return sd
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
		if m := ci.Mesh; m != nil {
			st.Mesh = cluster.Mesh{
				Enabled: true, ServiceType: m.ServiceType, NodePort: m.NodePort, CertsReady: m.CertsReady,
				APIServer: cluster.Workload{Present: true, Desired: 1, Ready: b2i(m.APIServerReady), Available: b2i(m.APIServerReady)},
			}
			for _, cfg := range m.Clusters {
				p := cluster.Peer{Name: cluster.Name(cfg.Name), Agents: ci.AgentsReady, Configured: ci.AgentsReady, Connected: min(cfg.Connected, ci.AgentsReady)}
				if peer, ok := s.Clusters[cluster.Name(cfg.Name)]; ok {
					if p.Problem = peerProblem(c, peer, cfg); p.Problem != "" {
						p.Connected = 0
					}
				} else {
					p.Problem, p.Connected = "unknown cluster", 0
				}
				st.Mesh.Peers = append(st.Mesh.Peers, p)
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

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
