package sim

import (
	"context"
	"fmt"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Latencies of the real operations on a laptop, which the latency model
// scales; they follow the phases kind and cilium-cli report.
const (
	latImage        = 3 * time.Second
	latPrepare      = 8 * time.Second
	latConfig       = 1 * time.Second
	latControlPlane = 18 * time.Second
	latStorage      = 1 * time.Second
	latJoin         = 14 * time.Second
	latDelete       = 4 * time.Second
	latHelm         = 4 * time.Second
	latAgent        = 8 * time.Second
	latCopySecret   = 500 * time.Millisecond
	latCertJob      = 6 * time.Second
	latAPIServer    = 12 * time.Second
	latExtract      = 1 * time.Second
	latConnectAgent = 2 * time.Second
	latKVStoreMesh  = 2 * time.Second
)

// needCluster is the error for an operation on a cluster that does not exist.
func needCluster(s *state, c cluster.Name) (*clusterState, error) {
	cs := s.Clusters[c]
	if !cs.exists() {
		return nil, fmt.Errorf("%s: %w", c, cluster.ErrNoCluster)
	}
	return cs, nil
}

func needCilium(s *state, c cluster.Name) (*clusterState, error) {
	cs, err := needCluster(s, c)
	if err != nil {
		return nil, err
	}
	if cs.Cilium == nil {
		return nil, fmt.Errorf("%w in %s", cluster.ErrNoCilium, c)
	}
	return cs, nil
}

func needMesh(s *state, c cluster.Name) (*clusterState, error) {
	cs, err := needCilium(s, c)
	if err != nil {
		return nil, err
	}
	if cs.Cilium.Mesh == nil || !cs.Cilium.Mesh.APIServerReady || !cs.Cilium.Mesh.CertsReady {
		return nil, fmt.Errorf("%w in %s", cluster.ErrMeshNotEnabled, c)
	}
	return cs, nil
}

// CreateCluster simulates `kind create cluster --name c --image <pin>
// --config kind-c-cluster.yaml`, writing the lab's kubeconfig of c as kind
// would (see writeKubeconfig).
func (b *Backend) CreateCluster(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	var exists, half bool
	b.read(func(s *state) error {
		exists, half = s.Clusters[c].exists(), s.Clusters[c].Creating
		return nil
	})
	if exists {
		log.Logf("Cluster %q already exists (created by this lab): reusing it", c)
		return b.writeKubeconfig(c)
	}
	if half {
		log.Logf("Found a half-created cluster %q from an interrupted run: deleting it first", c)
		if err := b.DeleteCluster(ctx, c, log); err != nil {
			return err
		}
	}
	log.Logf("Creating cluster %q ...", c)
	if err := b.step(ctx, log, latImage, " • Ensuring node image ("+cluster.DefaultNodeImage+") 🖼", nil); err != nil {
		return err
	}
	err := b.step(ctx, log, latPrepare, " • Preparing nodes 📦 📦 📦", func(s *state) error {
		s.Clusters[c] = &clusterState{Creating: true, Nodes: kindNodes(c)}
		return nil
	})
	if err != nil {
		return err
	}
	for _, ph := range []struct {
		d   time.Duration
		msg string
	}{
		{latConfig, " • Writing configuration 📜"},
		{latControlPlane, " • Starting control-plane 🕹️"},
		{latStorage, " • Installing StorageClass 💾"},
		{latJoin, " • Joining worker nodes 🚜"},
	} {
		if err := b.step(ctx, log, ph.d, ph.msg, nil); err != nil {
			return err
		}
	}
	err = b.update(func(s *state) error {
		s.Clusters[c].Creating = false
		return nil
	})
	if err != nil {
		return err
	}
	if err := b.writeKubeconfig(c); err != nil {
		return err
	}
	log.Logf("Cluster %q is up: context %s, 3 nodes NotReady until a CNI is installed", c, c.Context())
	return nil
}

// kindNodes are the seed's three nodes, with the addresses kind gives them on
// the docker network (US first).
func kindNodes(c cluster.Name) []node {
	base := 2 + 3*c.Index()
	return []node{
		{Name: string(c) + "-control-plane", Role: "control-plane", IP: fmt.Sprintf("172.18.0.%d", base)},
		{Name: string(c) + "-worker", Role: "worker", IP: fmt.Sprintf("172.18.0.%d", base+1)},
		{Name: string(c) + "-worker2", Role: "worker", IP: fmt.Sprintf("172.18.0.%d", base+2)},
	}
}

// DeleteCluster simulates `kind delete cluster --name c`.
func (b *Backend) DeleteCluster(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	var present bool
	b.read(func(s *state) error {
		present = len(s.Clusters[c].Nodes) > 0
		return nil
	})
	if !present {
		log.Logf("Cluster %q does not exist: nothing to delete", c)
		return b.removeKubeconfig(c)
	}
	err := b.step(ctx, log, latDelete, fmt.Sprintf("Deleting cluster %q ...", c), func(s *state) error {
		s.Clusters[c] = &clusterState{}
		return nil
	})
	if err != nil {
		return err
	}
	return b.removeKubeconfig(c)
}

// ShareCA copies cilium-ca from one cluster to the other, keeping Helm's
// ownership so that the later install adopts it instead of generating its own.
func (b *Backend) ShareCA(ctx context.Context, from, to cluster.Name, log cluster.Logger) error {
	var skip bool
	err := b.read(func(s *state) error {
		src, err := needCilium(s, from)
		if err != nil {
			return err
		}
		ca, ok := src.Secrets[secretCA]
		if !ok {
			return fmt.Errorf("share the Cilium CA: %s has no secret kube-system/%s", from, secretCA)
		}
		dst, err := needCluster(s, to)
		if err != nil {
			return err
		}
		if cur, ok := dst.Secrets[secretCA]; ok {
			if cur.CA == ca.CA {
				skip = true
				return nil
			}
			if dst.Cilium != nil {
				return cluster.WithHint(fmt.Errorf("share the Cilium CA: Cilium in %s already runs with its own CA", to),
					"the mesh would be limited; delete both clusters and start again")
			}
		}
		return nil
	})
	if err != nil || skip {
		if skip {
			log.Logf("Secret kube-system/%s in %s is already the one from %s", secretCA, to, from)
		}
		return err
	}
	return b.step(ctx, log, latCopySecret, fmt.Sprintf("Copying secret kube-system/%s from %s to %s so both clusters share one CA", secretCA, from, to), func(s *state) error {
		s.Clusters[to].secrets()[secretCA] = s.Clusters[from].Secrets[secretCA]
		return nil
	})
}

func (c *clusterState) secrets() map[string]secret {
	if c.Secrets == nil {
		c.Secrets = map[string]secret{}
	}
	return c.Secrets
}

// InstallCilium simulates `cilium install --set cluster.name=c --set cluster.id=N --set ipam.mode=kubernetes`.
func (b *Backend) InstallCilium(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	var installed *ciliumState
	err := b.read(func(s *state) error {
		cs, err := needCluster(s, c)
		if err == nil && cs.Cilium != nil {
			cp := *cs.Cilium
			installed = &cp
		}
		return err
	})
	if err != nil {
		return err
	}
	if installed != nil {
		if installed.ClusterName != string(c) || installed.ClusterID != c.ID() {
			return cluster.WithHint(fmt.Errorf("install cilium in %s: already installed as cluster %q id %d", c, installed.ClusterName, installed.ClusterID),
				"delete both clusters and start again")
		}
		log.Logf("Cilium %s is already installed in %s (release cilium, namespace kube-system)", installed.Version, c)
		return nil
	}
	log.Logf("ℹ️  Using Cilium version %s", b.opts.CiliumVersion)
	log.Logf("ℹ️  Using cluster name %q", c)
	return b.step(ctx, log, latHelm, "Installing Helm release cilium in namespace kube-system", func(s *state) error {
		cs := s.Clusters[c]
		if _, ok := cs.Secrets[secretCA]; ok {
			log.Logf("Reusing the existing secret kube-system/%s", secretCA)
		} else {
			cs.secrets()[secretCA] = secret{CA: fmt.Sprintf("%016x", mix(s.Seed, s.next())), HelmOwned: true}
		}
		cs.Cilium = &ciliumState{Version: b.opts.CiliumVersion, ClusterName: string(c), ClusterID: c.ID(), MaxConnected: 255}
		return nil
	})
}

// WaitCilium waits for the agents on every node and the operator; nodes turn
// Ready as their agent starts, since Cilium is their CNI.
func (b *Backend) WaitCilium(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	for {
		var done bool
		var ready, total int
		err := b.read(func(s *state) error {
			cs, err := needCilium(s, c)
			if err != nil {
				return err
			}
			ready, total = cs.Cilium.AgentsReady, len(cs.Nodes)
			done = ready == total && cs.Cilium.OperatorUp
			return nil
		})
		if err != nil || done {
			if done {
				log.Logf("Cilium is ready in %s: %d/%d agents, operator 1/1, nodes %d/%d Ready", c, ready, total, total, total)
			}
			return err
		}
		err = b.step(ctx, log, latAgent, fmt.Sprintf("Waiting for Cilium in %s: %d/%d agents ready", c, ready, total), func(s *state) error {
			cs := s.Clusters[c]
			if cs.Cilium == nil {
				return fmt.Errorf("cilium was removed from %s", c)
			}
			if cs.Cilium.AgentsReady < len(cs.Nodes) {
				cs.Nodes[cs.Cilium.AgentsReady].Ready = true
				cs.Cilium.AgentsReady++
			}
			cs.Cilium.OperatorUp = true
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// EnableClusterMesh simulates `cilium clustermesh enable --service-type NodePort`.
func (b *Backend) EnableClusterMesh(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	var m *meshState
	err := b.read(func(s *state) error {
		cs, err := needCilium(s, c)
		if err == nil && cs.Cilium.Mesh != nil {
			cp := *cs.Cilium.Mesh
			m = &cp
		}
		return err
	})
	if err != nil {
		return err
	}
	if m == nil {
		err := b.step(ctx, log, latHelm, fmt.Sprintf("Upgrading Helm release cilium in %s: clustermesh.useAPIServer=true, service type NodePort (the chart's nodePort, %d), certificates by a CronJob", c, cluster.DefaultMeshNodePort), func(s *state) error {
			s.Clusters[c].Cilium.Mesh = &meshState{ServiceType: "NodePort", NodePort: cluster.DefaultMeshNodePort}
			return nil
		})
		if err != nil {
			return err
		}
	} else {
		log.Logf("Cluster Mesh is already enabled in %s (release values: clustermesh.useAPIServer=true, service type NodePort)", c)
	}
	if m == nil || !m.CertsReady {
		err := b.step(ctx, log, latCertJob, "Waiting for job clustermesh-apiserver-generate-certs to complete", func(s *state) error {
			s.Clusters[c].Cilium.Mesh.CertsReady = true
			s.Clusters[c].secrets()[secretRemoteCert] = secret{CA: s.Clusters[c].Secrets[secretCA].CA}
			return nil
		})
		if err != nil {
			return err
		}
	}
	if m == nil || !m.APIServerReady {
		err := b.step(ctx, log, latAPIServer, "Waiting for deployment clustermesh-apiserver: 0/1 ready", func(s *state) error {
			s.Clusters[c].Cilium.Mesh.APIServerReady = true
			return nil
		})
		if err != nil {
			return err
		}
	}
	var port int
	b.read(func(s *state) error {
		port = s.Clusters[c].Cilium.Mesh.NodePort
		return nil
	})
	log.Logf("✅ clustermesh-apiserver is ready in %s: Deployment rolled out, certificates issued, Service type NodePort, NodePort %d", c, port)
	return nil
}

// meshInfo is what connect extracts from one cluster.
type meshInfo struct {
	name, ip    string
	id, max     int
	port        int
	ca          string
	serviceType string
}

// Connect simulates `cilium clustermesh connect --context kind-a --destination-context kind-b`:
// it extracts and validates both sides, then configures each with the other.
func (b *Backend) Connect(ctx context.Context, a, c cluster.Name, log cluster.Logger) error {
	infos := map[cluster.Name]meshInfo{}
	for _, n := range []cluster.Name{c, a} {
		log.Logf("✨ Extracting access information of cluster %s...", n)
		if err := b.clock.Sleep(ctx, latExtract); err != nil {
			return err
		}
		err := b.read(func(s *state) error {
			cs, err := needMesh(s, n)
			if err != nil {
				return err
			}
			if _, ok := cs.Secrets[secretRemoteCert]; !ok {
				return cluster.WithHint(fmt.Errorf("extract access information of %s: %s has no secret kube-system/%s: the certificate Job has not finished (%w)", n, n, secretRemoteCert, cluster.ErrMeshNotEnabled),
					"wait for the certificate Job: enabling Cluster Mesh waits for it")
			}
			infos[n] = meshInfo{name: cs.Cilium.ClusterName, id: cs.Cilium.ClusterID, max: cs.Cilium.MaxConnected,
				port: cs.Cilium.Mesh.NodePort, ip: cs.controlPlaneIP(), ca: cs.Secrets[secretCA].CA, serviceType: cs.Cilium.Mesh.ServiceType}
			return nil
		})
		if err != nil {
			return err
		}
		log.Logf("🔑 Read secrets %s and %s of cluster %s", secretCA, secretRemoteCert, n)
		if infos[n].serviceType == "NodePort" {
			log.Logf("⚠️  Service type NodePort detected (NodePort %d)! Service may fail when nodes are removed from the cluster!", infos[n].port)
		}
		log.Logf("ℹ️  Found ClusterMesh service IPs: [%s]", infos[n].ip)
	}
	tls, err := validatePair(infos[a], infos[c])
	if err != nil {
		return err
	}
	if tls {
		log.Logf("⚠️  Cilium CA certificates do not match between clusters. Multicluster features will be limited!")
	}
	errs := make(chan error, 2)
	for _, pair := range [][2]cluster.Name{{a, c}, {c, a}} {
		go func(from, to cluster.Name) {
			errs <- b.step(ctx, log, latHelm, fmt.Sprintf("ℹ️  Configuring Cilium in cluster '%s' to connect to cluster '%s'", from.Context(), to.Context()), func(s *state) error {
				m := s.Clusters[from].Cilium.Mesh
				if m == nil {
					return fmt.Errorf("cluster mesh was disabled in %s", from)
				}
				m.Clusters = mergePeer(m.Clusters, peerConfig{Name: infos[to].name, IPs: []string{infos[to].ip}, Port: infos[to].port, TLS: tls})
				return nil
			})
		}(pair[0], pair[1])
	}
	for range 2 {
		if e := <-errs; e != nil && err == nil {
			err = e
		}
	}
	if err != nil {
		return err
	}
	log.Logf("✅ Connected cluster %s and %s!", a.Context(), c.Context())
	return nil
}

// validatePair checks the two sides as cilium-cli does before connecting;
// tls reports CAs that differ, so the entries must carry the peer's CA.
func validatePair(x, y meshInfo) (tls bool, err error) {
	for _, i := range []meshInfo{x, y} {
		if i.name == "" || i.name == "default" {
			return false, cluster.WithHint(fmt.Errorf("connect: cluster name %q is not set", i.name), "install Cilium with cluster.name set")
		}
		if i.id < 1 || i.id > i.max {
			return false, cluster.WithHint(fmt.Errorf("connect: cluster id %d of %s is outside 1..%d", i.id, i.name, i.max),
				"install Cilium with a cluster.id in range")
		}
	}
	switch {
	case x.name == y.name:
		return false, cluster.WithHint(fmt.Errorf("connect: both clusters are named %q; cluster names must differ", x.name), "reinstall one cluster with another cluster.name")
	case x.id == y.id:
		return false, cluster.WithHint(fmt.Errorf("connect: both clusters have cluster id %d; ids must differ", x.id), "reinstall one cluster with another cluster.id")
	case x.max != y.max:
		return false, cluster.WithHint(fmt.Errorf("connect: max-connected-clusters differs (%d in %s, %d in %s)", x.max, x.name, y.max, y.name),
			"install both with the same clustermesh.maxConnectedClusters")
	}
	return x.ca != y.ca, nil
}

// mergePeer replaces the entry of the same name or appends it, as connect
// merges clustermesh.config.clusters by name.
func mergePeer(list []peerConfig, p peerConfig) []peerConfig {
	for i, q := range list {
		if q.Name == p.Name {
			if q.Port == p.Port && len(q.IPs) == len(p.IPs) && q.IPs[0] == p.IPs[0] && q.TLS == p.TLS {
				p.Connected = q.Connected
			}
			// kvstoremesh keeps its cache of the peer across a change
			// of address: it only reconnects.
			p.Cache = q.Cache
			list[i] = p
			return list
		}
	}
	return append(list, p)
}

// WaitConnected waits until c is connected to its peer in both layers:
// first c's kvstoremesh connects to the peer's clustermesh-apiserver and
// syncs its state into c's etcd, then every agent of c, connected to its
// local clustermesh-apiserver, picks the peer up from there. A peer link
// that cannot come up fails at once, saying why.
func (b *Backend) WaitConnected(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	peer := c.Peer()
	for {
		var p cluster.Peer
		var link cluster.PeerLink
		var found bool
		b.read(func(s *state) error {
			if cfg := s.entry(c); cfg != nil {
				found, p, link = true, s.agentsView(c, *cfg), s.link(c, *cfg)
			}
			return nil
		})
		switch {
		case !found:
			return fmt.Errorf("cluster %s has no entry for %s: %w", c, peer, cluster.ErrNotConnected)
		case !link.Connected:
			return fmt.Errorf("kvstoremesh in %s cannot connect to %s: %s", c, peer, link.Status)
		case p.OK():
			log.Logf("🔌 %s → %s (agents via their local clustermesh-apiserver)", c, p)
			return nil
		case !link.Synced:
			err := b.step(ctx, log, latKVStoreMesh, fmt.Sprintf("Waiting for kvstoremesh in %s to sync %s from %s's clustermesh-apiserver", c, peer, peer), func(s *state) error {
				cfg := s.entry(c)
				if cfg == nil {
					return fmt.Errorf("cluster %s lost its entry for %s: %w", c, peer, cluster.ErrNotConnected)
				}
				if lp := s.linkProblem(c, *cfg); lp != "" {
					return fmt.Errorf("kvstoremesh in %s cannot connect to %s: %s", c, peer, lp)
				}
				side := s.Clusters[peer].side()
				cfg.Cache = &side
				return nil
			})
			if err != nil {
				return err
			}
			log.Logf("🔗 peer link %s→%s up: kvstoremesh in %s cached %s's state in its local etcd", c, peer, c, peer)
			continue
		case p.Problem != "":
			return fmt.Errorf("agents in %s cannot connect to their clustermesh-apiserver: %s", c, p.Problem)
		}
		err := b.step(ctx, log, latConnectAgent, fmt.Sprintf("Waiting for agents in %s: %s", c, p), func(s *state) error {
			if cfg := s.entry(c); cfg != nil {
				cfg.Connected++
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
}

// ScaleAPIServer scales c's clustermesh-apiserver Deployment to 0 or 1
// replica, as `kubectl -n kube-system scale deployment
// clustermesh-apiserver --replicas n` would. At 0 its kvstoremesh and its
// etcd stop: c's link to the peer and the peer's link to c go down, c's
// agents lose their local apiserver, and every load balancer keeps the
// remote backends it last had.
func (b *Backend) ScaleAPIServer(ctx context.Context, c cluster.Name, replicas int, log cluster.Logger) error {
	if replicas < 0 || replicas > 1 {
		return fmt.Errorf("scale clustermesh-apiserver in %s: %d replicas is outside 0..1", c, replicas)
	}
	return b.step(ctx, log, latPodScale, fmt.Sprintf("Scaling deployment clustermesh-apiserver in %s to %d replica(s)", c, replicas), func(s *state) error {
		cs, err := needMesh(s, c)
		if err != nil {
			return err
		}
		cs.Cilium.Mesh.Stopped = replicas == 0
		return nil
	})
}

// Disconnect removes the peer from c's mesh configuration, as
// `cilium clustermesh disconnect` does for one direction.
func (b *Backend) Disconnect(c cluster.Name) error {
	return b.update(func(s *state) error {
		cs, err := needMesh(s, c)
		if err != nil {
			return err
		}
		var keep []peerConfig
		for _, p := range cs.Cilium.Mesh.Clusters {
			if p.Name != string(c.Peer()) {
				keep = append(keep, p)
			}
		}
		cs.Cilium.Mesh.Clusters = keep
		return nil
	})
}

// mix is splitmix64, for deterministic identifiers derived from the seed.
func mix(seed, n uint64) uint64 {
	z := seed + n*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}
