package real

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// The demo application's objects (assets/demo-*.yaml).
const (
	demoNamespace = "default"
	helloWorld    = "hello-world"
	busybox       = "busybox-deployment"
	busyboxLabel  = "app=busybox"
)

// exists reports whether c is there to be read: a kind cluster once this
// lab has created it; a cluster the learner brings once the create step
// has checked it and written the lab's kubeconfig of it. Until then the
// create step is not done, so a new lab runs it instead of resuming past it.
func (b *Backend) exists(c cluster.Name) (bool, error) {
	if _, ok := b.external(c); !ok {
		e, ok, err := b.recorded(c)
		if err != nil || !ok || !e.Complete {
			return false, err
		}
	}
	if _, err := os.Stat(b.kubeconfigPath(c)); errors.Is(err, os.ErrNotExist) {
		return false, nil
	}
	return true, nil
}

// kindGone tells, after the API of a kind cluster did not answer, whether
// the cluster is gone (deleted outside the lab): then it does not exist,
// and the create step makes it again, instead of every status read failing.
func (b *Backend) kindGone(ctx context.Context, c cluster.Name, apiErr error) bool {
	var status apierrors.APIStatus
	if _, ext := b.external(c); ext || errors.As(apiErr, &status) {
		return false
	}
	p, err := b.kindProvider(ctx, cluster.Discard)
	if err != nil {
		return false
	}
	names, err := p.List()
	return err == nil && !slices.Contains(names, string(c))
}

// Status reads c's state for the status panes and the steps' checks, as
// `kubectl get nodes`, `cilium status` and `cilium clustermesh status`
// show it. A cluster that does not exist yet has Exists false; mesh peers
// come from the agents and the peer links from KVStoreMesh (both cached
// briefly, see Options.StatusCacheTTL).
func (b *Backend) Status(ctx context.Context, c cluster.Name) (cluster.Status, error) {
	st := cluster.Status{Cluster: c}
	ok, err := b.exists(c)
	if err != nil || !ok {
		return st, err
	}
	kc, err := b.kube(ctx, c)
	if err != nil {
		return st, err
	}
	ctx, cancel := context.WithTimeout(ctx, b.timeouts.APICall)
	defer cancel()
	nodes, err := kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
	if err != nil {
		if b.kindGone(ctx, c, err) {
			return st, nil
		}
		return st, fmt.Errorf("read the status of %s: %w", c, err)
	}
	st.Exists = true
	st.Nodes = nodeCount(nodes.Items)

	r := reader{ctx: ctx, kc: kc}
	if err := b.ciliumStatus(&r, &st.Cilium); err != nil {
		return st, fmt.Errorf("read the status of %s: %w", c, err)
	}
	configured, err := b.meshStatus(&r, &st.Mesh)
	if err != nil {
		return st, fmt.Errorf("read the status of %s: %w", c, err)
	}
	if st.Cilium.Installed {
		if err := b.hubbleStatus(&r, c, &st.Hubble); err != nil {
			return st, fmt.Errorf("read the status of %s: %w", c, err)
		}
	}
	if err := demoStatus(&r, &st.Demo); err != nil {
		return st, fmt.Errorf("read the status of %s: %w", c, err)
	}
	if len(configured) > 0 {
		r := b.peers.get(ctx, c, configured, func(ctx context.Context) meshReading {
			var r meshReading
			var wg sync.WaitGroup
			wg.Go(func() { r.links = b.readLinks(ctx, c, kc, configured) })
			r.peers = b.readPeers(ctx, c, kc, configured)
			wg.Wait()
			return r
		})
		st.Mesh.Peers, st.Mesh.Links = r.peers, r.links
	}
	return st, nil
}

// reader gets objects, turning "not found" into a nil object.
type reader struct {
	ctx context.Context
	kc  kubernetes.Interface
}

func absent[T any](obj *T, err error) (*T, error) {
	if apierrors.IsNotFound(err) {
		return nil, nil
	}
	return obj, err
}

func (r *reader) deployment(ns, name string) (*appsv1.Deployment, error) {
	return absent(r.kc.AppsV1().Deployments(ns).Get(r.ctx, name, metav1.GetOptions{}))
}

func (r *reader) secret(name string) (*corev1.Secret, error) {
	return absent(r.kc.CoreV1().Secrets(namespace).Get(r.ctx, name, metav1.GetOptions{}))
}

func (r *reader) service(ns, name string) (*corev1.Service, error) {
	return absent(r.kc.CoreV1().Services(ns).Get(r.ctx, name, metav1.GetOptions{}))
}

func (b *Backend) ciliumStatus(r *reader, ci *cluster.Cilium) error {
	id, installed, err := readIdentity(r.ctx, r.kc)
	if err != nil {
		return err
	}
	ci.Installed, ci.ClusterName, ci.ClusterID = installed, id.Name, id.ID
	ds, err := absent(r.kc.AppsV1().DaemonSets(namespace).Get(r.ctx, ciliumDaemonSet, metav1.GetOptions{}))
	if err != nil {
		return err
	}
	if ds != nil {
		ci.Agent = daemonSetWorkload(ds)
		for _, ctr := range ds.Spec.Template.Spec.Containers {
			if ctr.Name == ciliumAgentCtr {
				ci.Version = imageVersion(ctr.Image)
			}
		}
	}
	op, err := r.deployment(namespace, ciliumOperator)
	if err != nil {
		return err
	}
	if op != nil {
		ci.Operator = deploymentWorkload(op)
	}
	ca, err := r.secret(caSecret)
	if err != nil {
		return err
	}
	if ca != nil {
		if cert, err := parseCA(ca); err == nil {
			ci.CA = caID(cert)
		}
	}
	return nil
}

// imageVersion reads the version from an image reference such as
// quay.io/cilium/cilium:v1.19.5@sha256:…, as `cilium status` shows it.
func imageVersion(image string) string {
	image, _, _ = strings.Cut(image, "@")
	if i := strings.LastIndex(image, ":"); i > strings.LastIndex(image, "/") {
		return strings.TrimPrefix(image[i+1:], "v")
	}
	return ""
}

// meshStatus fills the mesh's state and returns the peers the mesh
// configuration (Secret cilium-clustermesh) names.
func (b *Backend) meshStatus(r *reader, m *cluster.Mesh) ([]string, error) {
	svc, err := r.service(namespace, meshAPIServer)
	if err != nil {
		return nil, err
	}
	if svc != nil {
		m.Enabled = true
		m.ServiceType = string(svc.Spec.Type)
		if len(svc.Spec.Ports) > 0 {
			m.NodePort = int(svc.Spec.Ports[0].NodePort)
		}
	}
	d, err := r.deployment(namespace, meshAPIServer)
	if err != nil {
		return nil, err
	}
	if d != nil {
		m.Enabled = true
		m.APIServer = deploymentWorkload(d)
	}
	if !m.Enabled {
		return nil, nil
	}
	m.CertsReady = true
	for _, name := range meshCerts {
		s, err := r.secret(name)
		if err != nil {
			return nil, err
		}
		if s == nil || len(s.Data["tls.crt"]) == 0 {
			m.CertsReady = false
		}
	}
	cfg, err := r.secret(meshSecret)
	if err != nil || cfg == nil {
		return nil, err
	}
	return configuredPeers(cfg), nil
}

// configuredPeers lists the remote clusters of a cilium-clustermesh
// Secret: one key per cluster, besides its "<name>.etcd-client.*" files.
func configuredPeers(s *corev1.Secret) []string {
	var out []string
	for k := range s.Data {
		if !strings.Contains(k, ".") {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

func demoStatus(r *reader, d *cluster.DemoStatus) error {
	for _, w := range []struct {
		name string
		into *cluster.Workload
	}{{helloWorld, &d.HelloWorld}, {busybox, &d.Busybox}} {
		dep, err := r.deployment(demoNamespace, w.name)
		if err != nil {
			return err
		}
		if dep != nil {
			*w.into = deploymentWorkload(dep)
		}
	}
	svc, err := r.service(demoNamespace, helloWorld)
	if err != nil {
		return err
	}
	if svc != nil {
		d.Service = cluster.ServiceStatus{Exists: true, Settings: cluster.SettingsFromAnnotations(svc.Annotations)}
	}
	return nil
}
