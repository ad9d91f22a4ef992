package real

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// KVStoreMesh runs as the container kvstoremesh of the clustermesh-apiserver
// pod (on by default in 1.19 and 1.20, shared/CILIUM.md "Connect" 5): it
// connects to each remote cluster's clustermesh-apiserver and caches its
// state in the local etcd, which the local agents read.
const (
	meshAPIServerLabel = "k8s-app=clustermesh-apiserver"
	kvstoremeshCtr     = "kvstoremesh"
)

// kvstoremeshStatusCmd asks KVStoreMesh for its remote clusters, as
// Cilium's troubleshooting guide does: the image has one binary,
// clustermesh-apiserver, whose kvstoremesh-dbg command queries the
// kvstoremesh API (clustermesh-apiserver/kvstoremesh-dbg in Cilium).
var kvstoremeshStatusCmd = []string{"clustermesh-apiserver", "kvstoremesh-dbg", "status", "-o", "json"}

// parseKVStoreMeshStatus decodes `kvstoremesh-dbg status -o json`: the
// payload of the kvstoremesh API's GET /cluster, a list of the models'
// RemoteCluster, printed indented and followed by an empty line.
func parseKVStoreMeshStatus(out []byte) ([]remoteCluster, error) {
	var list []remoteCluster
	if err := json.Unmarshal(bytes.TrimSpace(out), &list); err != nil {
		return nil, fmt.Errorf("decode kvstoremesh-dbg status -o json: %w", err)
	}
	return list, nil
}

// links turns KVStoreMesh's report into the peer links of the configured
// remote clusters (and any other it reports); readErr, when set, is why
// there is no report, and every link says so.
func links(configured []string, report []remoteCluster, readErr error) []cluster.PeerLink {
	names := append([]string(nil), configured...)
	for _, rc := range report {
		// A remote cluster has a name; an entry without one is noise.
		if rc.Name != "" && !slices.Contains(names, rc.Name) {
			names = append(names, rc.Name)
		}
	}
	out := make([]cluster.PeerLink, 0, len(names))
	for _, name := range names {
		l := cluster.PeerLink{Name: cluster.Name(name)}
		switch rc, ok := findRemote(report, name); {
		case readErr != nil:
			l.Unknown, l.Status = true, "cannot read kvstoremesh: "+readErr.Error()
		case !ok:
			l.Status = "kvstoremesh does not list " + name + " yet"
		default:
			l.Connected, l.Ready, l.Synced, l.Status = rc.Connected, rc.Ready, rc.Synced.all(), rc.Status
		}
		out = append(out, l)
	}
	return out
}

func findRemote(list []remoteCluster, name string) (remoteCluster, bool) {
	for _, rc := range list {
		if rc.Name == name {
			return rc, true
		}
	}
	return remoteCluster{}, false
}

// readLinks asks the kvstoremesh container of a running
// clustermesh-apiserver pod of c for its remote clusters.
func (b *Backend) readLinks(ctx context.Context, c cluster.Name, kc kubernetes.Interface, configured []string) []cluster.PeerLink {
	pods, err := kc.CoreV1().Pods(namespace).List(ctx, metav1.ListOptions{LabelSelector: meshAPIServerLabel})
	if err != nil {
		return links(configured, nil, fmt.Errorf("list the clustermesh-apiserver pods: %w", err))
	}
	pod := ""
	for _, p := range pods.Items {
		if p.Status.Phase == corev1.PodRunning && p.DeletionTimestamp == nil {
			pod = p.Name
			break
		}
	}
	if pod == "" {
		return links(configured, nil, fmt.Errorf("no running clustermesh-apiserver pod in %s", c))
	}
	var out bytes.Buffer
	ectx, cancel := context.WithTimeout(ctx, b.timeouts.APICall)
	defer cancel()
	execErr := b.executor().Exec(ectx, c, namespace, pod, kvstoremeshCtr, kvstoremeshStatusCmd, &out)
	report, err := parseKVStoreMeshStatus(out.Bytes())
	if err != nil {
		// kvstoremesh-dbg prints why it failed ("Failed to retrieve status
		// information: ...") and exits 1: that says more than the exit.
		if msg := strings.TrimSpace(out.String()); msg != "" {
			return links(configured, nil, fmt.Errorf("%s", firstLine(msg)))
		}
		if execErr != nil {
			err = execErr
		}
		return links(configured, nil, err)
	}
	return links(configured, report, nil)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}
