package sim

import (
	"errors"
	"fmt"
	"net/netip"
	"slices"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// validate refuses a saved state that the simulation could not have
// written: a damaged or hand-edited sim-state.json is reported as corrupt
// instead of being drawn, or making an operation index out of range, divide
// by zero or loop for ever. Each rule is one the operations rely on.
func (s *state) validate() error {
	if s.Version != stateVersion {
		return fmt.Errorf("state format %d, want %d", s.Version, stateVersion)
	}
	for n := range s.Clusters {
		if n != cluster.US && n != cluster.EU {
			return fmt.Errorf("unknown cluster %q", n)
		}
	}
	for n := range s.Probes {
		if n != cluster.US && n != cluster.EU {
			return fmt.Errorf("probes counted from unknown cluster %q", n)
		}
	}
	for _, n := range cluster.Names() {
		c := s.Clusters[n]
		if c == nil {
			return fmt.Errorf("cluster %s missing", n)
		}
		if err := c.validate(n); err != nil {
			return fmt.Errorf("cluster %s: %w", n, err)
		}
	}
	return nil
}

func (c *clusterState) validate(n cluster.Name) error {
	if len(c.Nodes) == 0 || c.Creating {
		// A cluster being created, or not there: kind has made its node
		// containers at most, nothing runs in it yet.
		if c.Cilium != nil || len(c.Secrets) > 0 || len(c.Deployments) > 0 || len(c.Services) > 0 {
			return errors.New("holds objects but does not exist")
		}
		return c.validateNodes(0)
	}
	agents := 0
	if _, ca := c.Secrets[secretCA]; c.Cilium != nil && !ca {
		// Installing Cilium creates its CA, or adopts the one shared
		// before; the mesh's certificates are signed by it.
		return fmt.Errorf("cilium runs without its secret %s", secretCA)
	}
	if c.Cilium != nil {
		if err := c.Cilium.validate(n, len(c.Nodes)); err != nil {
			return fmt.Errorf("cilium: %w", err)
		}
		agents = c.Cilium.AgentsReady
	}
	if err := c.validateNodes(agents); err != nil {
		return err
	}
	for name, sec := range c.Secrets {
		if name != secretCA && name != secretRemoteCert {
			return fmt.Errorf("unknown secret %q", name)
		}
		if sec.CA == "" {
			return fmt.Errorf("secret %s names no CA", name)
		}
	}
	workers := c.workers()
	for name, d := range c.Deployments {
		if name != helloWorld && name != busyboxDeplo {
			return fmt.Errorf("unknown deployment %q", name)
		}
		if err := d.validate(workers); err != nil {
			return fmt.Errorf("deployment %s: %w", name, err)
		}
	}
	for name, svc := range c.Services {
		if name != helloWorld || svc == nil {
			return fmt.Errorf("unknown service %q", name)
		}
		if err := validateAnnotations(svc.Annotations); err != nil {
			return fmt.Errorf("service %s: %w", name, err)
		}
	}
	return nil
}

// validateNodes checks the nodes kind made: unique names, one control
// plane, workers for the pods, addresses; the first `ready` nodes are
// Ready, since a node turns Ready when its agent starts.
func (c *clusterState) validateNodes(ready int) error {
	if len(c.Nodes) == 0 {
		return nil
	}
	names := map[string]bool{}
	planes := 0
	for i, nd := range c.Nodes {
		switch {
		case nd.Name == "" || names[nd.Name]:
			return fmt.Errorf("node %d: missing or repeated name %q", i+1, nd.Name)
		case nd.Role != "control-plane" && nd.Role != "worker":
			return fmt.Errorf("node %s: unknown role %q", nd.Name, nd.Role)
		case nd.Ready != (i < ready):
			return fmt.Errorf("node %s: ready %t with %d agents ready", nd.Name, nd.Ready, ready)
		}
		if _, err := netip.ParseAddr(nd.IP); err != nil {
			return fmt.Errorf("node %s: %w", nd.Name, err)
		}
		names[nd.Name] = true
		if nd.Role == "control-plane" {
			planes++
		}
	}
	if planes != 1 || len(c.workers()) == 0 {
		return fmt.Errorf("%d control planes and %d workers, want 1 and some", planes, len(c.workers()))
	}
	return nil
}

func (c *clusterState) workers() []string {
	var out []string
	for _, nd := range c.Nodes {
		if nd.Role == "worker" {
			out = append(out, nd.Name)
		}
	}
	return out
}

func (ci *ciliumState) validate(n cluster.Name, nodes int) error {
	switch {
	case ci.Version == "":
		return errors.New("no version")
	case ci.ClusterName != string(n):
		// The lab names each Cilium cluster as its kind cluster; connect
		// writes the mesh entries under these names.
		return fmt.Errorf("cluster name %q, want %s", ci.ClusterName, n)
	case ci.MaxConnected != 255 && ci.MaxConnected != 511:
		return fmt.Errorf("max connected clusters %d, want 255 or 511", ci.MaxConnected)
	case ci.ClusterID < 1 || ci.ClusterID > ci.MaxConnected:
		return fmt.Errorf("cluster id %d is outside 1..%d", ci.ClusterID, ci.MaxConnected)
	case ci.AgentsReady < 0 || ci.AgentsReady > nodes:
		return fmt.Errorf("%d agents ready on %d nodes", ci.AgentsReady, nodes)
	}
	m := ci.Mesh
	if m == nil {
		return nil
	}
	switch {
	case m.ServiceType != "NodePort":
		return fmt.Errorf("clustermesh-apiserver service type %q, want NodePort", m.ServiceType)
	case m.NodePort < 30000 || m.NodePort > 32767:
		return fmt.Errorf("clustermesh-apiserver NodePort %d is outside 30000..32767", m.NodePort)
	}
	var seen []string
	for _, p := range m.Clusters {
		switch {
		case p.Name != string(n.Peer()) || slices.Contains(seen, p.Name):
			return fmt.Errorf("mesh entry %q: want one entry, for %s", p.Name, n.Peer())
		case len(p.IPs) == 0:
			return fmt.Errorf("mesh entry %s: no address", p.Name)
		case p.Port < 1 || p.Port > 65535:
			return fmt.Errorf("mesh entry %s: port %d", p.Name, p.Port)
		case p.Connected < 0 || p.Connected > nodes:
			return fmt.Errorf("mesh entry %s: %d agents connected on %d nodes", p.Name, p.Connected, nodes)
		}
		if c := p.Cache; c != nil {
			// What kvstoremesh cached is a hello-world the peer had: its
			// ready pods count as the load balancer's candidates.
			if c.Ready < 0 || c.Ready > maxSimScale {
				return fmt.Errorf("mesh entry %s: %d ready pods cached, want 0..%d", p.Name, c.Ready, maxSimScale)
			}
			if _, err := cluster.ParseAffinity(string(c.Settings.Affinity)); err != nil {
				return fmt.Errorf("mesh entry %s: cached %w", p.Name, err)
			}
		}
		for _, ip := range p.IPs {
			if _, err := netip.ParseAddr(ip); err != nil {
				return fmt.Errorf("mesh entry %s: %w", p.Name, err)
			}
		}
		seen = append(seen, p.Name)
	}
	return nil
}

// validate checks a deployment as the ReplicaSet controller leaves it.
func (d *deployment) validate(workers []string) error {
	if d == nil {
		return errors.New("empty")
	}
	if d.Replicas < 0 || d.Replicas > maxSimScale {
		return fmt.Errorf("%d replicas is outside 0..%d", d.Replicas, maxSimScale)
	}
	if uint64(len(d.Pods)) > d.Created {
		return fmt.Errorf("%d pods but %d ever created", len(d.Pods), d.Created)
	}
	live := 0
	for _, p := range d.Pods {
		switch {
		case p.Name == "":
			return errors.New("a pod without a name")
		case !slices.Contains(workers, p.Node):
			return fmt.Errorf("pod %s on unknown node %q", p.Name, p.Node)
		case p.Phase == podPending || p.Phase == podRunning:
			live++
		case p.Phase != podTerminating:
			return fmt.Errorf("pod %s: unknown phase %q", p.Name, p.Phase)
		}
	}
	if live > d.Replicas {
		return fmt.Errorf("%d pods pending or running for %d replicas", live, d.Replicas)
	}
	return nil
}

// validateAnnotations accepts the annotations the lab sets, with the
// values it writes.
func validateAnnotations(a map[string]string) error {
	for k, v := range a {
		switch k {
		case cluster.AnnotationGlobal, cluster.AnnotationShared:
			if v != "true" && v != "false" {
				return fmt.Errorf("%s=%q, want true or false", k, v)
			}
		case cluster.AnnotationAffinity:
			if _, err := cluster.ParseAffinity(v); err != nil {
				return fmt.Errorf("%s: %w", k, err)
			}
		default:
			return fmt.Errorf("unknown annotation %q", k)
		}
	}
	return nil
}
