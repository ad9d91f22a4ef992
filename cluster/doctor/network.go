package doctor

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// kindNetworkName is the network kind puts every cluster's nodes on.
const (
	kindNetworkName = "kind"
	networkName     = "Network kind"
)

// network is one of the engine's networks and its subnets.
type network struct {
	Name    string
	Subnets []netip.Prefix
}

// networkJSON decodes both `docker network inspect` (IPAM.Config[].Subnet)
// and `podman network inspect` (subnets[].subnet).
type networkJSON struct {
	Name string
	IPAM struct {
		Config []struct{ Subnet string }
	}
	Subnets []struct {
		Subnet string `json:"subnet"`
	} `json:"subnets"`
}

// networks lists the engine's networks with their subnets.
func networks(ctx context.Context, env Env, eng Engine) ([]network, error) {
	cctx, cancel := context.WithTimeout(ctx, commandTimeout)
	defer cancel()
	ids, stderr, err := env.Run(cctx, eng.Name, "network", "ls", "-q")
	if err != nil {
		return nil, fmt.Errorf("%s network ls: %s", eng.Name, reason(stderr, err))
	}
	args := append([]string{"network", "inspect"}, strings.Fields(string(ids))...)
	if len(args) == 2 {
		return nil, nil
	}
	out, stderr, err := env.Run(cctx, eng.Name, args...)
	if err != nil {
		return nil, fmt.Errorf("%s network inspect: %s", eng.Name, reason(stderr, err))
	}
	var raw []networkJSON
	if err := json.Unmarshal(bytes.TrimSpace(out), &raw); err != nil {
		return nil, fmt.Errorf("decoding %s network inspect: %w", eng.Name, err)
	}
	var nets []network
	for _, r := range raw {
		n := network{Name: r.Name}
		var subnets []string
		for _, c := range r.IPAM.Config {
			subnets = append(subnets, c.Subnet)
		}
		for _, s := range r.Subnets {
			subnets = append(subnets, s.Subnet)
		}
		for _, s := range subnets {
			if p, err := netip.ParsePrefix(s); err == nil {
				n.Subnets = append(n.Subnets, p.Masked())
			}
		}
		nets = append(nets, n)
	}
	return nets, nil
}

// labSubnets are the pod and service subnets of the seed's kind configs, read
// from the configs themselves so the check cannot drift from them.
func labSubnets() []netip.Prefix {
	var out []netip.Prefix
	for _, c := range cluster.Names() {
		raw, err := assets.KindConfig(string(c))
		if err != nil {
			continue
		}
		var cfg struct {
			Networking struct{ PodSubnet, ServiceSubnet string }
		}
		if yaml.Unmarshal(raw, &cfg) != nil {
			continue
		}
		for _, s := range []string{cfg.Networking.PodSubnet, cfg.Networking.ServiceSubnet} {
			if p, err := netip.ParsePrefix(s); err == nil {
				out = append(out, p)
			}
		}
	}
	return out
}

// overlapping returns the lab subnets that overlap any of subnets.
func overlapping(subnets []netip.Prefix) []string {
	var out []string
	for _, lab := range labSubnets() {
		for _, s := range subnets {
			if lab.Overlaps(s) && !slices.Contains(out, lab.String()) {
				out = append(out, lab.String())
			}
		}
	}
	return out
}

// nextDefaultSubnet is the /16 Docker's default address pools
// (172.17.0.0/16 to 172.31.0.0/16, in order) would give the next network
// created without a subnet: the first one no network uses yet.
func nextDefaultSubnet(nets []network) (netip.Prefix, bool) {
	for i := 17; i <= 31; i++ {
		cand := netip.MustParsePrefix(fmt.Sprintf("172.%d.0.0/16", i))
		if !usedBy(cand, nets) {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}

// freeSubnet is a /16 of Docker's default pools that neither a network nor
// the lab uses, for the learner to create the kind network on.
func freeSubnet(nets []network) (netip.Prefix, bool) {
	for i := 17; i <= 31; i++ {
		cand := netip.MustParsePrefix(fmt.Sprintf("172.%d.0.0/16", i))
		if !usedBy(cand, nets) && len(overlapping([]netip.Prefix{cand})) == 0 {
			return cand, true
		}
	}
	return netip.Prefix{}, false
}

func usedBy(p netip.Prefix, nets []network) bool {
	for _, n := range nets {
		for _, s := range n.Subnets {
			if s.Overlaps(p) {
				return true
			}
		}
	}
	return false
}

// createNetworkCommand is how to make the kind network on a given subnet,
// with the options kind itself uses on docker.
func createNetworkCommand(eng Engine, nets []network) string {
	subnet := "<a free subnet>"
	if p, ok := freeSubnet(nets); ok {
		subnet = p.String()
	}
	if eng.Name == "podman" {
		return "podman network create --subnet " + subnet + " " + kindNetworkName
	}
	return "docker network create -d=bridge -o com.docker.network.bridge.enable_ip_masquerade=true --subnet " + subnet + " " + kindNetworkName
}

// kindNetworkCheck catches the kind network overlapping the lab's pod or
// service subnets: node addresses would then collide with service or pod
// IPs (shared/CILIUM.md, "Pitfalls"). Before the network exists, it warns
// when Docker's default pools would hand it such a subnet.
func kindNetworkCheck(eng Engine, engErr error, nets []network, netErr error) cluster.Check {
	c := cluster.Check{ID: IDNetwork, Name: networkName, Summary: networkName + ": clear of the lab's subnets"}
	labs := make([]string, 0, 4)
	for _, p := range labSubnets() {
		labs = append(labs, p.String())
	}
	switch {
	case engErr != nil:
		c.Summary = networkName + ": not checked"
		c.Detail = "not checked: no container engine answers"
		return c
	case netErr != nil:
		c.Status = cluster.Warn
		c.Summary = networkName + ": could not list networks"
		c.Detail = "could not list the engine's networks: " + netErr.Error()
		c.Fix = "run `" + eng.Name + " network inspect kind` to see why; its subnet must not overlap " + strings.Join(labs, ", ")
		return c
	}
	i := slices.IndexFunc(nets, func(n network) bool { return n.Name == kindNetworkName })
	if i < 0 {
		c.Summary = networkName + ": not created yet"
		if eng.Name != "docker" {
			c.Detail = "not created yet: kind creates it with the first cluster; run the checks again after that"
			return c
		}
		next, ok := nextDefaultSubnet(nets)
		if !ok {
			c.Detail = "not created yet: kind creates it with the first cluster"
			return c
		}
		if over := overlapping([]netip.Prefix{next}); len(over) > 0 {
			c.Status = cluster.Warn
			c.Summary = networkName + ": would likely get " + next.String()
			c.Detail = fmt.Sprintf("not created yet, and Docker's default address pools would likely give it %s, which overlaps the lab's %s", next, strings.Join(over, ", "))
			c.Fix = "create it yourself before the lab does: " + createNetworkCommand(eng, nets)
			return c
		}
		c.Detail = fmt.Sprintf("not created yet: kind creates it with the first cluster (Docker's default pools would likely give it %s, clear of the lab's subnets)", next)
		return c
	}
	kind := nets[i]
	var subnets []string
	for _, s := range kind.Subnets {
		subnets = append(subnets, s.String())
	}
	if over := overlapping(kind.Subnets); len(over) > 0 {
		c.Status = cluster.Fail
		c.Summary = networkName + ": overlaps the lab's " + strings.Join(over, ", ")
		c.Detail = fmt.Sprintf("%s overlaps the lab's %s: node addresses would collide with pod or service IPs", strings.Join(subnets, ", "), strings.Join(over, ", "))
		c.Fix = "delete every kind cluster, then `" + eng.Name + " network rm kind` and " + createNetworkCommand(eng, nets)
		return c
	}
	c.Detail = strings.Join(subnets, ", ") + ", clear of the lab's pod and service subnets (" + strings.Join(labs, ", ") + ")"
	return c
}
