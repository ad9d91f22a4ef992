package cluster

import (
	"fmt"
	"strings"
)

// Status is one cluster's state as `kubectl get nodes`, `cilium status` and
// `cilium clustermesh status` would show it.
type Status struct {
	Cluster Name `json:"cluster"`
	// Exists is false until the cluster has been created.
	Exists bool       `json:"exists"`
	Nodes  Count      `json:"nodes"`
	Cilium Cilium     `json:"cilium"`
	Mesh   Mesh       `json:"mesh"`
	Hubble Hubble     `json:"hubble"`
	Demo   DemoStatus `json:"demo"`
}

// Count is a ready / total pair such as "3/3 nodes ready".
type Count struct {
	Ready int `json:"ready"`
	Total int `json:"total"`
}

// All reports a non-empty count with every member ready.
func (c Count) All() bool { return c.Total > 0 && c.Ready == c.Total }

// Workload is the readiness of a Deployment or DaemonSet.
type Workload struct {
	Present   bool `json:"present"`
	Desired   int  `json:"desired"`
	Ready     int  `json:"ready"`
	Available int  `json:"available"`
}

// OK reports a present workload whose desired pods are all ready and available
// (zero desired counts as OK, as for a Deployment scaled to 0).
func (w Workload) OK() bool {
	return w.Present && w.Ready == w.Desired && w.Available == w.Desired
}

// String renders the workload as cilium status does: "Desired: 3, Ready: 3/3".
func (w Workload) String() string {
	if !w.Present {
		return "absent"
	}
	return fmt.Sprintf("Desired: %d, Ready: %d/%d, Available: %d/%d", w.Desired, w.Ready, w.Desired, w.Available, w.Desired)
}

// Cilium is the Cilium installation's state in one cluster.
type Cilium struct {
	Installed   bool     `json:"installed"`
	Version     string   `json:"version,omitempty"`
	ClusterName string   `json:"clusterName,omitempty"`
	ClusterID   int      `json:"clusterID,omitempty"`
	Agent       Workload `json:"agent"`
	Operator    Workload `json:"operator"`
	// CA identifies the cilium-ca certificate (its SubjectKeyId in hex), so
	// two clusters can be seen to share one CA.
	CA string `json:"ca,omitempty"`
}

// Ready reports an installed Cilium whose agents and operator are all up.
func (c Cilium) Ready() bool {
	return c.Installed && c.Agent.OK() && c.Agent.Desired > 0 && c.Operator.OK() && c.Operator.Desired > 0
}

// Mesh is the Cluster Mesh state of one cluster.
type Mesh struct {
	Enabled     bool     `json:"enabled"`
	ServiceType string   `json:"serviceType,omitempty"`
	NodePort    int      `json:"nodePort,omitempty"`
	APIServer   Workload `json:"apiserver"`
	// CertsReady is true once the certificate Job has created the
	// clustermesh-apiserver TLS Secrets.
	CertsReady bool `json:"certsReady"`
	// Peers are the agents' view: in 1.19 every agent connects to its
	// local clustermesh-apiserver and finds each remote cluster there, as
	// KVStoreMesh cached it (`cilium status` in each agent).
	Peers []Peer `json:"peers,omitempty"`
	// Links are the other layer: the kvstoremesh container of the local
	// clustermesh-apiserver connected to each remote cluster's
	// clustermesh-apiserver (`kvstoremesh-dbg status` in that container).
	Links []PeerLink `json:"links,omitempty"`
}

// Ready reports an enabled mesh whose apiserver and certificates are up.
func (m Mesh) Ready() bool {
	return m.Enabled && m.CertsReady && m.APIServer.OK() && m.APIServer.Desired > 0
}

// Peer returns the connection to the named remote cluster, if configured.
func (m Mesh) Peer(n Name) (Peer, bool) {
	for _, p := range m.Peers {
		if p.Name == n {
			return p, true
		}
	}
	return Peer{}, false
}

// Link returns KVStoreMesh's connection to the named remote cluster, if
// it was read.
func (m Mesh) Link(n Name) (PeerLink, bool) {
	for _, l := range m.Links {
		if l.Name == n {
			return l, true
		}
	}
	return PeerLink{}, false
}

// Peer is a remote cluster as this cluster's agents see it.
type Peer struct {
	Name Name `json:"name"`
	// Configured and Connected count this cluster's agents that have the
	// remote cluster configured and that are connected to it (ready).
	Configured int `json:"configured"`
	Connected  int `json:"connected"`
	Agents     int `json:"agents"`
	// ViaKVStoreMesh counts the agents that get the remote cluster from
	// their local clustermesh-apiserver, where KVStoreMesh caches it,
	// rather than from the remote cluster directly.
	ViaKVStoreMesh int `json:"viaKVStoreMesh,omitempty"`
	// Problem says why agents are not connected, when they are not.
	Problem string `json:"problem,omitempty"`
}

// OK reports every agent configured and connected.
func (p Peer) OK() bool {
	return p.Agents > 0 && p.Configured == p.Agents && p.Connected == p.Agents
}

// String renders the connection as `cilium clustermesh status` does.
func (p Peer) String() string {
	return fmt.Sprintf("%s: %d/%d configured, %d/%d connected", p.Name, p.Configured, p.Agents, p.Connected, p.Agents)
}

// AgentsLine summarises the agents' view for the status panes:
// "agents 3/3 connected · eu via kvstoremesh".
func (p Peer) AgentsLine() string {
	s := fmt.Sprintf("agents %d/%d connected", p.Connected, p.Agents)
	if p.ViaKVStoreMesh > 0 {
		s += fmt.Sprintf(" · %s via kvstoremesh", p.Name)
	}
	return s
}

// PeerLink is KVStoreMesh's connection from this cluster's
// clustermesh-apiserver to a remote cluster's, as `kvstoremesh-dbg status`
// reports it. While it is down the agents keep what it cached last.
type PeerLink struct {
	Name Name `json:"name"`
	// Connected: KVStoreMesh holds a connection to the remote etcd.
	Connected bool `json:"connected"`
	// Ready: connected, configuration retrieved and every resource synced.
	Ready bool `json:"ready"`
	// Synced: nodes, services, endpoints and identities are all synced
	// into the local etcd.
	Synced bool `json:"synced"`
	// Status is KVStoreMesh's own status text, or why it could not be read.
	Status string `json:"status,omitempty"`
	// Unknown is set when KVStoreMesh could not be asked (Status says
	// why): the link may well be up.
	Unknown bool `json:"unknown,omitempty"`
}

// OK reports a link that is connected, ready and synced.
func (l PeerLink) OK() bool { return l.Connected && l.Ready && l.Synced }

// String names the link from cluster from to the remote cluster, with its
// state: "peer link us→eu: up, synced" or "peer link us→eu: down: <reason>".
func (l PeerLink) String(from Name) string {
	head := fmt.Sprintf("peer link %s→%s: ", from, l.Name)
	switch {
	case l.Unknown:
		return head + "unknown" + suffix(l.Status)
	case l.OK():
		return head + "up, synced"
	case l.Connected:
		return head + "connected, not synced yet" + suffix(l.Status)
	}
	return head + "down" + suffix(l.Status)
}

func suffix(s string) string {
	if s == "" {
		return ""
	}
	return ": " + s
}

// DemoStatus is the demo application's state in one cluster.
type DemoStatus struct {
	HelloWorld Workload      `json:"helloWorld"`
	Busybox    Workload      `json:"busybox"`
	Service    ServiceStatus `json:"service"`
}

// Deployed reports the demo applied with its Service and a ready client.
func (d DemoStatus) Deployed() bool {
	return d.HelloWorld.Present && d.Busybox.OK() && d.Busybox.Desired > 0 && d.Service.Exists
}

// ServiceStatus is the hello-world Service and its Cilium annotations.
type ServiceStatus struct {
	Exists   bool `json:"exists"`
	Settings `json:"settings"`
}

// Affinity is the value of service.cilium.io/affinity.
type Affinity string

// The affinities Cilium knows.
const (
	AffinityNone   Affinity = "none"
	AffinityLocal  Affinity = "local"
	AffinityRemote Affinity = "remote"
)

// ParseAffinity accepts local, remote or none.
func ParseAffinity(s string) (Affinity, error) {
	switch a := Affinity(strings.ToLower(s)); a {
	case AffinityNone, AffinityLocal, AffinityRemote:
		return a, nil
	case "":
		return AffinityNone, nil
	}
	return "", fmt.Errorf("unknown affinity %q: want local, remote or none", s)
}

// Next cycles none -> local -> remote -> none, for the playground's toggle.
func (a Affinity) Next() Affinity {
	switch a {
	case AffinityLocal:
		return AffinityRemote
	case AffinityRemote:
		return AffinityNone
	}
	return AffinityLocal
}

// Settings is what the hello-world Service's Cilium annotations say.
type Settings struct {
	Global   bool     `json:"global"`
	Shared   bool     `json:"shared"`
	Affinity Affinity `json:"affinity"`
}

// DefaultSettings are a Service without Cilium annotations: local, and
// shared as soon as it becomes global.
func DefaultSettings() Settings { return Settings{Shared: true, Affinity: AffinityNone} }

// The Service annotations Cilium reads for global services.
const (
	AnnotationGlobal   = "service.cilium.io/global"
	AnnotationShared   = "service.cilium.io/shared"
	AnnotationAffinity = "service.cilium.io/affinity"
)

// SettingsFromAnnotations reads the Cilium annotations as Cilium does
// (pkg/k8s/service.go): global only when "true"; shared when absent or
// "true"; affinity none unless set.
func SettingsFromAnnotations(a map[string]string) Settings {
	s := DefaultSettings()
	s.Global = strings.EqualFold(a[AnnotationGlobal], "true")
	if v, ok := a[AnnotationShared]; ok {
		s.Shared = strings.EqualFold(v, "true")
	}
	if aff, err := ParseAffinity(a[AnnotationAffinity]); err == nil {
		s.Affinity = aff
	}
	return s
}

// ServiceChange is a patch of the hello-world Service's annotations; nil
// fields are left as they are.
type ServiceChange struct {
	Global   *bool     `json:"global,omitempty"`
	Shared   *bool     `json:"shared,omitempty"`
	Affinity *Affinity `json:"affinity,omitempty"`
}

// Annotations renders the change as annotation values; a nil value removes
// the annotation (affinity none is written out, as `kubectl annotate` would).
func (c ServiceChange) Annotations() map[string]*string {
	out := map[string]*string{}
	str := func(s string) *string { return &s }
	if c.Global != nil {
		out[AnnotationGlobal] = str(fmt.Sprint(*c.Global))
	}
	if c.Shared != nil {
		out[AnnotationShared] = str(fmt.Sprint(*c.Shared))
	}
	if c.Affinity != nil {
		out[AnnotationAffinity] = str(string(*c.Affinity))
	}
	return out
}

// Apply returns the settings with the change applied.
func (c ServiceChange) Apply(s Settings) Settings {
	if c.Global != nil {
		s.Global = *c.Global
	}
	if c.Shared != nil {
		s.Shared = *c.Shared
	}
	if c.Affinity != nil {
		s.Affinity = *c.Affinity
	}
	return s
}

// String describes the change as kubectl annotate arguments.
func (c ServiceChange) String() string {
	var parts []string
	for _, k := range []string{AnnotationGlobal, AnnotationShared, AnnotationAffinity} {
		if v, ok := c.Annotations()[k]; ok {
			parts = append(parts, fmt.Sprintf("%s=%q", k, *v))
		}
	}
	return strings.Join(parts, " ")
}

// Bool returns a pointer to b, for ServiceChange literals.
func Bool(b bool) *bool { return &b }

// AffinityPtr returns a pointer to a, for ServiceChange literals.
func AffinityPtr(a Affinity) *Affinity { return &a }
