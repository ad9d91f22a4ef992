package real

import (
	"context"
	"fmt"
	"maps"
	"strconv"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Objects of the Cilium installation (shared/CILIUM.md).
const (
	ciliumConfig      = "cilium-config"
	ciliumDaemonSet   = "cilium"
	ciliumOperator    = "cilium-operator"
	ciliumAgentLabel  = "k8s-app=cilium"
	ciliumAgentCtr    = "cilium-agent"
	defaultMaxCluster = 255
)

// ciliumIdentity is the name and id a cluster's Cilium runs with, read
// from cilium-config as cilium-cli does.
type ciliumIdentity struct {
	Name string
	ID   int
	// Max is max-connected-clusters; 255 when the key is absent.
	Max int
}

// readIdentity reads cilium-config; installed is false when it is absent.
func readIdentity(ctx context.Context, kc kubernetes.Interface) (id ciliumIdentity, installed bool, err error) {
	cm, err := kc.CoreV1().ConfigMaps(namespace).Get(ctx, ciliumConfig, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return id, false, nil
	}
	if err != nil {
		return id, false, err
	}
	id.Name = cm.Data["cluster-name"]
	id.Max = defaultMaxCluster
	if v := cm.Data["cluster-id"]; v != "" {
		if id.ID, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return id, true, fmt.Errorf("cilium-config cluster-id %q: %w", v, err)
		}
	}
	if v := cm.Data["max-connected-clusters"]; v != "" {
		if id.Max, err = strconv.Atoi(strings.TrimSpace(v)); err != nil {
			return id, true, fmt.Errorf("cilium-config max-connected-clusters %q: %w", v, err)
		}
	}
	return id, true, nil
}

// InstallCilium installs the Cilium chart in c with the lab's values, or
// leaves a matching installation as it is.
func (b *Backend) InstallCilium(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	unlock, err := b.lockHelm(ctx, c)
	if err != nil {
		return err
	}
	defer unlock()
	vals, rel, err := b.releaseValues(c)
	if err != nil {
		return fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	if rel != nil && rel.Info.Status == release.StatusDeployed {
		name, _ := lookup(vals, "cluster.name")
		id, _ := lookup(vals, "cluster.id")
		if fmt.Sprint(name) != string(c) || fmt.Sprint(id) != strconv.Itoa(c.ID()) {
			return cluster.WithHint(fmt.Errorf("install cilium in %s: already installed as cluster %v id %v", c, name, id),
				"delete both clusters and start again")
		}
		log.Logf("Cilium %s is already installed in %s (release cilium, namespace kube-system, revision %d)", rel.Chart.Metadata.Version, c, rel.Version)
		return nil
	}
	if rel == nil {
		// Another installation (not through Helm, or another release name)
		// would fight this one over the node's datapath.
		if id, installed, err := readIdentity(ctx, kc); err != nil {
			return err
		} else if installed {
			return cluster.WithHint(fmt.Errorf("install cilium in %s: Cilium is already installed (cluster-name %q) but not as Helm release cilium", c, id.Name),
				"uninstall it (`cilium uninstall`) or use a fresh cluster")
		}
	}
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return err
	}
	if v, err := kc.Discovery().ServerVersion(); err == nil {
		log.Logf("Kubernetes %s (as the API server of %s reports it)", v.GitVersion, c)
	}
	log.Logf("ℹ️  Using Cilium version %s", lc.Version())
	log.Logf("ℹ️  Using cluster name %q", c)
	if _, err := kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{}); err == nil {
		log.Logf("🔑 Found existing CA in secret %s: the chart reuses it", caSecret)
	}
	vals = b.withUserValues(StageInstall, InstallValues(c), log)
	if b.preloading() {
		// The nodes hold the images by name only (Options.Preload).
		log.Logf("The images are preloaded: installing with useDigest=false for every image the chart pins by digest")
		vals = mergeMaps(vals, NoDigestValues(lc.chart))
	}
	if err := b.install(ctx, c, lc, vals, log); err != nil {
		return err
	}
	log.Logf("Helm release cilium installed in %s: cluster.name=%s cluster.id=%d ipam.mode=kubernetes", c, c, c.ID())
	return nil
}

// WaitCilium waits until the agents run on every node, the operator is
// available and every node is Ready (`cilium status --wait`).
func (b *Backend) WaitCilium(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	var summary string
	err = b.waitFor(ctx, log, "Cilium in "+string(c), b.timeouts.Cilium,
		fmt.Sprintf("look at the pods: kubectl --kubeconfig %s -n kube-system get pods -l k8s-app=cilium; then retry", b.kubeconfigHintPath(c)),
		func(ctx context.Context) (bool, string, error) {
			ds, err := kc.AppsV1().DaemonSets(namespace).Get(ctx, ciliumDaemonSet, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return false, "", fmt.Errorf("%w in %s (no DaemonSet cilium)", cluster.ErrNoCilium, c)
			}
			if err != nil {
				return false, "", err
			}
			op, err := kc.AppsV1().Deployments(namespace).Get(ctx, ciliumOperator, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			if err != nil {
				return false, "", err
			}
			agent, oper, n := daemonSetWorkload(ds), deploymentWorkload(op), nodeCount(nodes.Items)
			summary = fmt.Sprintf("agents %d/%d ready, operator %d/%d, nodes %d/%d Ready", agent.Ready, agent.Desired, oper.Available, oper.Desired, n.Ready, n.Total)
			done := agent.Desired > 0 && agent.OK() && oper.Desired > 0 && oper.OK() && (n.All() || n.Total == 0)
			return done, summary, nil
		})
	if err != nil {
		return err
	}
	log.Logf("Cilium is ready in %s: %s", c, summary)
	return nil
}

// caSecret is the Secret the chart keeps its CA in (shared/CILIUM.md, "CA").
const caSecret = "cilium-ca"

// Helm's ownership metadata: with it, the next install adopts the copied
// Secret instead of refusing it (shared/CILIUM.md, "CA").
var helmOwnership = struct{ labels, annotations map[string]string }{
	labels: map[string]string{"app.kubernetes.io/managed-by": "Helm"},
	annotations: map[string]string{
		"meta.helm.sh/release-name":      releaseName,
		"meta.helm.sh/release-namespace": namespace,
	},
}

// ShareCA copies kube-system/cilium-ca from one cluster to the other with
// Helm's ownership metadata, so that the install in the destination reuses
// it and both clusters trust one CA.
func (b *Backend) ShareCA(ctx context.Context, from, to cluster.Name, log cluster.Logger) error {
	src, err := b.kube(ctx, from)
	if err != nil {
		return err
	}
	dst, err := b.kube(ctx, to)
	if err != nil {
		return err
	}
	ca, err := src.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	if apierrors.IsNotFound(err) {
		return cluster.WithHint(fmt.Errorf("share the Cilium CA: %s has no secret %s/%s: %w", from, namespace, caSecret, cluster.ErrNoCilium),
			fmt.Sprintf("install Cilium in %s first: the chart creates the CA", from))
	}
	if err != nil {
		return fmt.Errorf("read %s/%s in %s: %w", namespace, caSecret, from, err)
	}
	if _, err := parseCA(ca); err != nil {
		return fmt.Errorf("share the Cilium CA of %s: %w", from, err)
	}
	cur, err := dst.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	switch {
	case apierrors.IsNotFound(err):
		log.Logf("Copying secret %s/%s from %s to %s so both clusters share one CA", namespace, caSecret, from, to)
		if _, err := dst.CoreV1().Secrets(namespace).Create(ctx, copyCA(ca, nil), metav1.CreateOptions{}); err != nil {
			return fmt.Errorf("create %s/%s in %s: %w", namespace, caSecret, to, err)
		}
		return nil
	case err != nil:
		return fmt.Errorf("read %s/%s in %s: %w", namespace, caSecret, to, err)
	case string(cur.Data["ca.crt"]) == string(ca.Data["ca.crt"]) && string(cur.Data["ca.key"]) == string(ca.Data["ca.key"]):
		log.Logf("Secret %s/%s in %s is already the one from %s", namespace, caSecret, to, from)
		return nil
	}
	if _, installed, err := readIdentity(ctx, dst); err != nil {
		return err
	} else if installed {
		return cluster.WithHint(fmt.Errorf("share the Cilium CA: Cilium in %s already runs with its own CA", to),
			"the mesh would be limited; delete both clusters and start again")
	}
	log.Logf("Replacing the leftover secret %s/%s in %s with the one from %s", namespace, caSecret, to, from)
	if _, err := dst.CoreV1().Secrets(namespace).Update(ctx, copyCA(ca, cur), metav1.UpdateOptions{}); err != nil {
		return fmt.Errorf("update %s/%s in %s: %w", namespace, caSecret, to, err)
	}
	return nil
}

// copyCA builds the destination Secret: the source's data, type, labels and
// annotations with Helm's ownership set; over holds the object it replaces.
func copyCA(src, over *corev1.Secret) *corev1.Secret {
	out := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Name: caSecret, Namespace: namespace, Labels: map[string]string{}, Annotations: map[string]string{}},
		Type:       src.Type,
		Data:       map[string][]byte{},
	}
	if over != nil {
		out.ResourceVersion = over.ResourceVersion
	}
	maps.Copy(out.Labels, src.Labels)
	maps.Copy(out.Annotations, src.Annotations)
	maps.Copy(out.Labels, helmOwnership.labels)
	maps.Copy(out.Annotations, helmOwnership.annotations)
	maps.Copy(out.Data, src.Data)
	return out
}
