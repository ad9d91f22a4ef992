package real

import (
	"context"
	"fmt"
	"strings"

	"helm.sh/helm/v3/pkg/release"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Objects Cluster Mesh adds (shared/CILIUM.md, "Enable Cluster Mesh").
const (
	meshAPIServer  = "clustermesh-apiserver"
	certJobLabel   = "k8s-app=clustermesh-apiserver-generate-certs"
	remoteCert     = "clustermesh-apiserver-remote-cert"
	serverCert     = "clustermesh-apiserver-server-cert"
	meshSecret     = "cilium-clustermesh"
	kvstoreSecret  = "cilium-kvstoremesh"
	meshCertSuffix = "-cert"
)

// meshCerts are the Secrets the certificate Job must have created before
// the mesh can be connected: the apiserver's own and the client
// certificate remote agents present.
var meshCerts = []string{serverCert, remoteCert}

// meshEnabledIn reports whether the release's values already enable the
// mesh as EnableValues does.
func meshEnabledIn(vals map[string]any) bool {
	use, _ := lookup(vals, "clustermesh.useAPIServer")
	typ, _ := lookup(vals, "clustermesh.apiserver.service.type")
	method, _ := lookup(vals, "clustermesh.apiserver.tls.auto.method")
	return use == true && typ == "NodePort" && method == "cronJob"
}

// EnableClusterMesh upgrades the release with the mesh values (as
// `cilium clustermesh enable --service-type NodePort`), then waits for the
// certificate Job's Secrets and the clustermesh-apiserver Deployment, and
// reports the Service as it reads it.
func (b *Backend) EnableClusterMesh(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	if err := b.enableValues(ctx, c, log); err != nil {
		return err
	}
	hint := fmt.Sprintf("look at the Job: kubectl --kubeconfig %s -n kube-system get jobs,pods -l %s; then retry", b.kubeconfigHintPath(c), certJobLabel)
	if err := b.waitFor(ctx, log, "the clustermesh-apiserver certificates in "+string(c), b.timeouts.Mesh, hint,
		func(ctx context.Context) (bool, string, error) { return certsReady(ctx, kc) }); err != nil {
		return err
	}
	hint = fmt.Sprintf("look at the pods: kubectl --kubeconfig %s -n kube-system get pods -l k8s-app=clustermesh-apiserver; then retry", b.kubeconfigHintPath(c))
	if err := b.waitFor(ctx, log, "deployment clustermesh-apiserver in "+string(c), b.timeouts.Mesh, hint,
		func(ctx context.Context) (bool, string, error) {
			d, err := kc.AppsV1().Deployments(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
			if err != nil {
				return false, "", err
			}
			ok, state := rolledOut(d)
			return ok, state, nil
		}); err != nil {
		return err
	}
	svc, err := kc.CoreV1().Services(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read Service %s/%s in %s: %w", namespace, meshAPIServer, c, err)
	}
	port := 0
	if len(svc.Spec.Ports) > 0 {
		port = int(svc.Spec.Ports[0].NodePort)
	}
	log.Logf("✅ clustermesh-apiserver is ready in %s: Deployment rolled out, certificates issued, Service type %s, NodePort %d", c, svc.Spec.Type, port)
	return nil
}

// enableValues applies the mesh values unless the release has them.
func (b *Backend) enableValues(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	unlock, err := b.lockHelm(ctx, c)
	if err != nil {
		return err
	}
	defer unlock()
	vals, rel, err := b.releaseValues(c)
	if err != nil {
		return fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	if rel == nil {
		return fmt.Errorf("%w in %s (no Helm release cilium)", cluster.ErrNoCilium, c)
	}
	if meshEnabledIn(vals) && rel.Info.Status == release.StatusDeployed {
		log.Logf("Cluster Mesh is already enabled in %s (release values: clustermesh.useAPIServer=true, service type NodePort)", c)
		return nil
	}
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return err
	}
	log.Logf("Upgrading Helm release cilium in %s: clustermesh.useAPIServer=true, service type NodePort (the chart's nodePort, %d), certificates by a CronJob", c, cluster.DefaultMeshNodePort)
	return b.upgrade(ctx, c, lc, b.withUserValues(StageEnable, EnableValues(), log))
}

// certsReady reports the certificate Secrets present; while they are not,
// it says what the certificate Job is doing, and fails when the Job failed.
func certsReady(ctx context.Context, kc kubernetes.Interface) (bool, string, error) {
	var missing []string
	for _, name := range meshCerts {
		s, err := kc.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
		if apierrors.IsNotFound(err) || (err == nil && len(s.Data["tls.crt"]) == 0) {
			missing = append(missing, name)
			continue
		}
		if err != nil {
			return false, "", err
		}
	}
	if len(missing) == 0 {
		return true, "certificates present", nil
	}
	jobs, err := kc.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: certJobLabel})
	if err != nil {
		return false, "", err
	}
	state := "job clustermesh-apiserver-generate-certs not created yet"
	for _, j := range jobs.Items {
		switch {
		case jobCondition(&j, batchv1.JobFailed):
			return false, "", cluster.WithHint(fmt.Errorf("job %s failed: the clustermesh-apiserver certificates were not created", j.Name),
				"look at its logs (kubectl -n kube-system logs job/"+j.Name+"), delete the Job, then retry")
		case jobCondition(&j, batchv1.JobComplete):
			state = fmt.Sprintf("job %s completed, secrets %s not visible yet", j.Name, strings.Join(missing, ", "))
		default:
			state = fmt.Sprintf("job %s running (%d active), secrets %s missing", j.Name, j.Status.Active, strings.Join(missing, ", "))
		}
	}
	return false, state, nil
}

func jobCondition(j *batchv1.Job, t batchv1.JobConditionType) bool {
	for _, c := range j.Status.Conditions {
		if c.Type == t && c.Status == corev1.ConditionTrue {
			return true
		}
	}
	return false
}
