package real

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// accessInfo is what `cilium clustermesh connect` extracts from one
// cluster (shared/CILIUM.md, "Connect" step 1).
type accessInfo struct {
	cluster cluster.Name
	ciliumIdentity
	ServiceType string
	NodePort    int
	IP          string
	// CA is the cilium-ca certificate's identity (SubjectKeyId, hex).
	CA string
}

// entry is the clustermesh.config.clusters entry the peer gets for this cluster.
func (a accessInfo) entry() PeerEntry {
	return PeerEntry{Name: a.Name, IPs: []string{a.IP}, Port: a.NodePort}
}

// extract reads c's access information and checks that what the peer's
// agents will need is there: the apiserver's NodePort, a node address, the
// remote client certificate signed by the cluster's CA.
func (b *Backend) extract(ctx context.Context, c cluster.Name) (accessInfo, error) {
	info := accessInfo{cluster: c}
	kc, err := b.kube(ctx, c)
	if err != nil {
		return info, err
	}
	id, installed, err := readIdentity(ctx, kc)
	if err != nil {
		return info, fmt.Errorf("read %s/%s in %s: %w", namespace, ciliumConfig, c, err)
	}
	if !installed {
		return info, fmt.Errorf("%w in %s (no ConfigMap %s/%s)", cluster.ErrNoCilium, c, namespace, ciliumConfig)
	}
	info.ciliumIdentity = id

	svc, err := kc.CoreV1().Services(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return info, fmt.Errorf("%w in %s (no Service %s/%s)", cluster.ErrMeshNotEnabled, c, namespace, meshAPIServer)
	}
	if err != nil {
		return info, fmt.Errorf("read Service %s/%s in %s: %w", namespace, meshAPIServer, c, err)
	}
	info.ServiceType = string(svc.Spec.Type)
	if svc.Spec.Type != corev1.ServiceTypeNodePort || len(svc.Spec.Ports) == 0 || svc.Spec.Ports[0].NodePort == 0 {
		return info, cluster.WithHint(fmt.Errorf("the Service %s/%s in %s is %s without a NodePort: %w with service type NodePort", namespace, meshAPIServer, c, svc.Spec.Type, cluster.ErrMeshNotEnabled),
			"enable Cluster Mesh with service type NodePort")
	}
	info.NodePort = int(svc.Spec.Ports[0].NodePort)

	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		return info, fmt.Errorf("list nodes of %s: %w", c, err)
	}
	if info.IP = nodeIP(nodes.Items); info.IP == "" {
		return info, cluster.WithHint(fmt.Errorf("no node of %s has an address: the peer could not reach NodePort %d", c, info.NodePort),
			"check the nodes: kubectl get nodes -o wide")
	}

	caSec, err := kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return info, fmt.Errorf("%s has no secret %s/%s: %w", c, namespace, caSecret, cluster.ErrNoCilium)
	}
	if err != nil {
		return info, fmt.Errorf("read secret %s/%s in %s: %w", namespace, caSecret, c, err)
	}
	ca, err := parseCA(caSec)
	if err != nil {
		return info, fmt.Errorf("%s: %w", c, err)
	}
	info.CA = caID(ca)

	rc, err := kc.CoreV1().Secrets(namespace).Get(ctx, remoteCert, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return info, cluster.WithHint(fmt.Errorf("%s has no secret %s/%s: the certificate Job has not finished (%w)", c, namespace, remoteCert, cluster.ErrMeshNotEnabled),
			"wait for the certificate Job: enabling Cluster Mesh waits for it")
	}
	if err != nil {
		return info, fmt.Errorf("read secret %s/%s in %s: %w", namespace, remoteCert, c, err)
	}
	if len(rc.Data["tls.crt"]) == 0 || len(rc.Data["tls.key"]) == 0 {
		return info, cluster.WithHint(fmt.Errorf("secret %s/%s in %s has no tls.crt/tls.key (%w)", namespace, remoteCert, c, cluster.ErrMeshNotEnabled),
			"delete the Secret, so that enabling Cluster Mesh has the certificate Job make it again")
	}
	if err := signedBy(rc.Data["tls.crt"], ca); err != nil {
		return info, cluster.WithHint(fmt.Errorf("the remote certificate of %s is not signed by its cilium-ca: %w (%w)", c, err, cluster.ErrMeshNotEnabled),
			"delete the clustermesh-apiserver-*-cert Secrets, so that enabling Cluster Mesh has the certificate Job make them again")
	}
	return info, nil
}

// nodeIP is the address the peer reaches a cluster's NodePort on:
// preferably a control-plane node's (on kind, its address on the docker
// network), ExternalIP before InternalIP (shared/CILIUM.md, "Connect").
func nodeIP(nodes []corev1.Node) string {
	ordered := slices.Clone(nodes)
	slices.SortStableFunc(ordered, func(a, b corev1.Node) int {
		return boolRank(isControlPlane(b)) - boolRank(isControlPlane(a))
	})
	for _, t := range []corev1.NodeAddressType{corev1.NodeExternalIP, corev1.NodeInternalIP} {
		for _, n := range ordered {
			for _, a := range n.Status.Addresses {
				if a.Type == t && a.Address != "" {
					return a.Address
				}
			}
		}
	}
	return ""
}

func isControlPlane(n corev1.Node) bool {
	_, ok := n.Labels["node-role.kubernetes.io/control-plane"]
	return ok
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// validatePair checks both sides as cilium-cli does before connecting
// (shared/CILIUM.md, "Connect" step 2). Unlike the seed's cilium-cli, which
// only warned, it refuses different CAs: the lab shares one, so a mismatch
// means the clusters were not set up by it and the mesh would be limited.
func validatePair(x, y accessInfo) error {
	for _, i := range []accessInfo{x, y} {
		if i.Name == "" || i.Name == "default" {
			return cluster.WithHint(fmt.Errorf("connect: cluster %s has cluster name %q", i.cluster, i.Name),
				"install Cilium with cluster.name set")
		}
		if i.ID < 1 || i.ID > i.Max {
			return cluster.WithHint(fmt.Errorf("connect: cluster id %d of %s is outside 1..%d", i.ID, i.Name, i.Max),
				"install Cilium with a cluster.id in range")
		}
	}
	switch {
	case x.Name == y.Name:
		return cluster.WithHint(fmt.Errorf("connect: both clusters are named %q; cluster names must differ", x.Name), "reinstall one cluster with another cluster.name")
	case x.ID == y.ID:
		return cluster.WithHint(fmt.Errorf("connect: both clusters have cluster id %d; ids must differ", x.ID), "reinstall one cluster with another cluster.id")
	case x.Max != y.Max:
		return cluster.WithHint(fmt.Errorf("connect: max-connected-clusters differs (%d in %s, %d in %s)", x.Max, x.Name, y.Max, y.Name), "install both with the same clustermesh.maxConnectedClusters")
	case x.CA != y.CA:
		return cluster.WithHint(fmt.Errorf("connect: Cilium CA certificates do not match between clusters (%s: %s, %s: %s); multicluster features would be limited", x.cluster, short(x.CA), y.cluster, short(y.CA)),
			"the CA must be shared before Cilium is installed in the second cluster: delete both clusters and start again")
	}
	return nil
}

func short(id string) string {
	if len(id) > 16 {
		return id[:16] + "…"
	}
	return id
}

// Connect configures each cluster to connect to the other, as
// `cilium clustermesh connect --context kind-a --destination-context kind-b`:
// it extracts and validates both sides, then upgrades each release with the
// other as a clustermesh.config.clusters entry.
func (b *Backend) Connect(ctx context.Context, a, c cluster.Name, log cluster.Logger) error {
	if a == c {
		return fmt.Errorf("connect: %s cannot connect to itself", a)
	}
	infos := map[cluster.Name]accessInfo{}
	for _, n := range []cluster.Name{c, a} {
		log.Logf("✨ Extracting access information of cluster %s...", n)
		info, err := b.extract(ctx, n)
		if err != nil {
			return fmt.Errorf("extract access information of %s: %w", n, err)
		}
		log.Logf("🔑 Read secrets %s and %s of cluster %s", caSecret, remoteCert, n)
		if info.ServiceType == string(corev1.ServiceTypeNodePort) {
			log.Logf("⚠️  Service type NodePort detected (NodePort %d)! Service may fail when nodes are removed from the cluster!", info.NodePort)
		}
		log.Logf("ℹ️  Found ClusterMesh service IPs: [%s]", info.IP)
		infos[n] = info
	}
	if err := validatePair(infos[a], infos[c]); err != nil {
		return err
	}
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return err
	}
	errs := make(chan error, 2)
	for _, pair := range [][2]cluster.Name{{a, c}, {c, a}} {
		go func(from, to cluster.Name) {
			errs <- b.configurePeer(ctx, from, infos[to].entry(), lc, log)
		}(pair[0], pair[1])
	}
	var all []error
	for range 2 {
		all = append(all, <-errs)
	}
	if err := errors.Join(all...); err != nil {
		return err
	}
	b.peers.drop(a)
	b.peers.drop(c)
	log.Logf("✅ Connected cluster %s and %s!", a.Context(), c.Context())
	return nil
}

// configurePeer merges peer into from's clustermesh.config.clusters, in
// the format of the chart version installed there, unless it is there.
func (b *Backend) configurePeer(ctx context.Context, from cluster.Name, peer PeerEntry, lc *loadedChart, log cluster.Logger) error {
	unlock, err := b.lockHelm(ctx, from)
	if err != nil {
		return err
	}
	defer unlock()
	vals, rel, err := b.releaseValues(from)
	if err != nil {
		return fmt.Errorf("read the Helm release cilium in %s: %w", from, err)
	}
	if rel == nil {
		return fmt.Errorf("%w in %s (no Helm release cilium)", cluster.ErrNoCilium, from)
	}
	current, _ := lookup(vals, "clustermesh.config.clusters")
	enabled, _ := lookup(vals, "clustermesh.config.enabled")
	if enabled == true && peerConfigured(current, peer) && rel.Info.Status == release.StatusDeployed {
		log.Logf("ℹ️  Cilium in cluster '%s' is already configured to connect to cluster '%s'", from.Context(), cluster.Name(peer.Name).Context())
		return nil
	}
	// The format must suit the chart that renders it: the one the upgrade
	// installs, which is the lab's chart.
	vals, err = ConnectValues(lc.Version(), current, peer)
	if err != nil {
		return fmt.Errorf("configure %s: %w", from, err)
	}
	log.Logf("ℹ️  Configuring Cilium in cluster '%s' to connect to cluster '%s'", from.Context(), cluster.Name(peer.Name).Context())
	return b.upgrade(ctx, from, lc, b.withUserValues(StageConnect, vals, log))
}
