//go:build integration

package real

// The real backend against two real API servers: the same code a learner
// runs with --us-kubeconfig/--eu-kubeconfig, unchanged, with only exec
// answered from recorded outputs. Run with `make test-integration`.

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/storage"
	"helm.sh/helm/v3/pkg/storage/driver"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/clustertest"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// integrationBackend is the real backend on the suite's clusters, as the
// command line builds it for a learner's own clusters, plus the log of
// its progress lines and of what the libraries said.
type integrationBackend struct {
	*Backend
	log  *lines
	diag string
}

// newIntegrationBackend builds the backend with External set to the
// suite's kubeconfig and contexts, the published chart of the given
// version (through the --cilium-chart option), and exec answered
// by recorded outputs. Waits poll quickly and give up after two minutes
// instead of the learner's ten, so a broken wait fails the suite soon.
func newIntegrationBackend(t *testing.T, cs *clusters, dir, chartVersion string) *integrationBackend {
	t.Helper()
	diagPath := filepath.Join(dir, "backend.log")
	diag, err := os.Create(diagPath)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { diag.Close() })
	relay := newRelayServer(t, nil, "0")
	b, err := New(Options{
		Dir:       dir,
		ChartPath: chartPath(t, chartVersion),
		External:  cs.external(),
		DiagLog:   diag,
		Exec:      &recordedMesh{kube: cs.kube},
		// Flows come from a relay served here, with none: a port-forward,
		// like exec, needs a kubelet.
		Relay: func(context.Context, cluster.Name) (string, func(), error) {
			return relay.addr, func() {}, nil
		},
		FlowDelay:      time.Millisecond,
		Poll:           100 * time.Millisecond,
		StatusCacheTTL: -1,
		// The suite runs its tests in parallel, each with two control
		// planes, their controllers and kwok, under the race detector: on a
		// busy 2-core machine one status read (a dozen API calls) has taken
		// more than the learner's 10 s. The suite's patience is its own.
		Timeouts: Timeouts{Cilium: 2 * time.Minute, Mesh: 2 * time.Minute, Connect: 2 * time.Minute, Rollout: 2 * time.Minute, Helm: 2 * time.Minute, APICall: 2 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	ib := &integrationBackend{Backend: b, log: &lines{}, diag: diagPath}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("backend progress:\n%s", ib.log)
			if b, err := os.ReadFile(diagPath); err == nil {
				all := strings.Split(string(b), "\n")
				t.Logf("last lines of backend.log:\n%s", strings.Join(all[max(0, len(all)-40):], "\n"))
			}
		}
	})
	return ib
}

// must fails the test with the backend's log when err is set.
func (ib *integrationBackend) must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%v (hint: %s)", err, cluster.HintOf(err))
	}
}

// both runs fn for us and eu at once, as the lab's steps do.
func both(fn func(c cluster.Name) error) error {
	errs := make([]error, 2)
	var wg sync.WaitGroup
	for i, c := range cluster.Names() {
		wg.Go(func() { errs[i] = fn(c) })
	}
	wg.Wait()
	return errors.Join(errs...)
}

// releaseIn reads the deployed cilium release from the cluster's Helm
// storage (Secrets in kube-system), as `helm status cilium` does.
func releaseIn(t *testing.T, kc kubernetes.Interface) *release.Release {
	t.Helper()
	rel, err := storage.Init(driver.NewSecrets(kc.CoreV1().Secrets(namespace))).Deployed(releaseName)
	if err != nil {
		t.Fatalf("read the Helm release cilium: %v", err)
	}
	return rel
}

// revisions are the deployed revisions of the cilium release in us and eu.
func revisions(t *testing.T, cs *clusters) [2]int {
	t.Helper()
	return [2]int{releaseIn(t, cs.kube(cluster.US)).Version, releaseIn(t, cs.kube(cluster.EU)).Version}
}

// meshCertNames are the Secrets the chart's certificate Job
// (clustermesh-apiserver-generate-certs) creates.
var meshCertNames = []string{serverCert, "clustermesh-apiserver-admin-cert", remoteCert, "clustermesh-apiserver-local-cert"}

// issueMeshCerts does what the chart's certificate Job does, which cannot
// run here (kwok runs no container, so the Job's pod completes without
// certgen having run): it creates the clustermesh-apiserver certificate
// Secrets, real PEM certificates signed by the cluster's cilium-ca (the
// shared CA). Secrets already there are kept, as certgen keeps them.
func issueMeshCerts(ctx context.Context, kc kubernetes.Interface) error {
	caSec, err := kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	if err != nil {
		return fmt.Errorf("read cilium-ca: %w", err)
	}
	ca, err := loadCA(caSec)
	if err != nil {
		return err
	}
	for _, name := range meshCertNames {
		crt, key, err := ca.sign(strings.TrimSuffix(strings.TrimPrefix(name, "clustermesh-apiserver-"), meshCertSuffix))
		if err != nil {
			return err
		}
		_, err = kc.CoreV1().Secrets(namespace).Create(ctx, ca.tlsSecret(name, crt, key), metav1.CreateOptions{})
		if err != nil && !apierrors.IsAlreadyExists(err) {
			return fmt.Errorf("create %s: %w", name, err)
		}
	}
	return nil
}

// certJob returns the certificate Job the chart created, or an error
// saying why it is not there (yet).
func certJob(ctx context.Context, kc kubernetes.Interface) (*batchv1.Job, error) {
	jobs, err := kc.BatchV1().Jobs(namespace).List(ctx, metav1.ListOptions{LabelSelector: certJobLabel})
	if err != nil {
		return nil, err
	}
	if len(jobs.Items) != 1 {
		return nil, fmt.Errorf("%d certificate Jobs, want 1", len(jobs.Items))
	}
	return &jobs.Items[0], nil
}

// runCertgen plays the certificate Job's part (see issueMeshCerts) in the
// background, for runs where the test does not call the backend itself:
// once the chart has created the Job in a cluster, the Secrets appear. It
// stops when the test ends.
func runCertgen(t *testing.T, cs *clusters) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		issued := map[cluster.Name]bool{}
		for len(issued) < len(cs.cp) {
			for c := range cs.cp {
				if issued[c] {
					continue
				}
				if _, err := certJob(ctx, cs.kube(c)); err != nil {
					continue
				}
				if err := issueMeshCerts(ctx, cs.kube(c)); err != nil {
					if ctx.Err() == nil {
						t.Errorf("certgen in %s: %v", c, err)
					}
					return
				}
				issued[c] = true
			}
			select {
			case <-ctx.Done():
				return
			case <-time.After(100 * time.Millisecond):
			}
		}
	}()
}

// checkStep runs a lab step's Check against the clusters, as resuming the
// lab does, and fails unless it reports the step done.
func checkStep(t *testing.T, b cluster.Backend, id string) {
	t.Helper()
	list := steps.All()
	i, err := steps.Index(list, id)
	if err != nil {
		t.Fatal(err)
	}
	j, err := steps.NewJournal(nil, func([]byte) error { return nil })
	if err != nil {
		t.Fatal(err)
	}
	done, err := list[i].Check(context.Background(), &steps.Env{Backend: b, Journal: j})
	if err != nil || !done {
		t.Errorf("step %s: Check = %v, %v; want done", id, done, err)
	}
}

// TestIntegrationBackend runs the conformance suite (cluster/clustertest)
// on the real backend against two real API servers, the clusters brought
// as a learner brings theirs, and after each phase checks what the backend
// left in them: Helm releases in Helm's own storage, objects as the API
// server validated, defaulted and stored them, and status read back from
// those objects.
//
// Readiness: kube-controller-manager and kube-scheduler run as processes
// and kwok marks nodes Ready and pods Running, so every wait of the
// backend (agents and operator after install, the clustermesh-apiserver
// rollout, the demo rollouts, a scale to zero) passes on status written
// by the real controllers, not by the test. That is the point: status a
// test wrote would only restate what the wait code already assumes
// (observedGeneration, updated and available replicas, DaemonSet counts),
// while the controllers' own status shows whether those assumptions hold.
func TestIntegrationBackend(t *testing.T) {
	t.Parallel()
	cs := startClusters(t)
	// The certificate Job cannot run here: once the chart has created it
	// (and kwok completed its pod), certgen's Secrets are issued.
	runCertgen(t, cs)
	ib := newIntegrationBackend(t, cs, t.TempDir(), DefaultCiliumVersion)
	clustertest.Run(t, clustertest.Harness{
		New:     func(*testing.T) cluster.Backend { return ib },
		Brought: true,
		OneLab:  true,
		Log:     ib.log,
		Break: func(t *testing.T, _ cluster.Backend, f clustertest.Fault) func() {
			kc := cs.kube(cluster.EU)
			switch f {
			case clustertest.SameClusterID:
				setIdentity(t, kc, "cluster-id", "1")
				return func() { setIdentity(t, kc, "cluster-id", "2") }
			case clustertest.SameClusterName:
				setIdentity(t, kc, "cluster-name", "us")
				return func() { setIdentity(t, kc, "cluster-name", "eu") }
			case clustertest.NoRemoteCert:
				ib.must(t, kc.CoreV1().Secrets(namespace).Delete(context.Background(), remoteCert, metav1.DeleteOptions{}))
				return func() { ib.must(t, issueMeshCerts(context.Background(), kc)) }
			}
			t.Fatalf("no such fault %q", f)
			return nil
		},
		Snapshot: func(t *testing.T, _ cluster.Backend) string { return storedVersions(t, cs) },
		After: func(t *testing.T, _ cluster.Backend, p clustertest.Phase) {
			if check := integrationChecks[p]; check != nil {
				check(t, cs, ib)
			}
		},
	})
}

// integrationChecks are what the real API servers hold after each phase,
// beyond the conformance suite's behaviours.
var integrationChecks = map[clustertest.Phase]func(t *testing.T, cs *clusters, ib *integrationBackend){
	clustertest.Created: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		for _, c := range cluster.Names() {
			if want := fmt.Sprintf("Cluster %s answers: Kubernetes v1.37.2, 3 node(s)", c); !ib.log.has(want) {
				t.Errorf("log lacks %q", want)
			}
		}
		checkStep(t, ib, "create-clusters")
	},
	clustertest.Installed: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx := context.Background()
		for _, c := range cluster.Names() {
			kc := cs.kube(c)
			// Installing again made no revision.
			rel := releaseIn(t, kc)
			if rel.Version != 1 || rel.Chart.Metadata.Version != DefaultCiliumVersion || rel.Namespace != namespace {
				t.Errorf("%s: release cilium revision %d chart %s namespace %s", c, rel.Version, rel.Chart.Metadata.Version, rel.Namespace)
			}
			cm, err := kc.CoreV1().ConfigMaps(namespace).Get(ctx, ciliumConfig, metav1.GetOptions{})
			ib.must(t, err)
			if cm.Data["cluster-name"] != string(c) || cm.Data["cluster-id"] != fmt.Sprint(c.ID()) || cm.Data["ipam"] != "kubernetes" {
				t.Errorf("%s: cilium-config cluster-name %q cluster-id %q ipam %q", c, cm.Data["cluster-name"], cm.Data["cluster-id"], cm.Data["ipam"])
			}
		}
		caUS, err := cs.kube(cluster.US).CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
		ib.must(t, err)
		caEU, err := cs.kube(cluster.EU).CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
		ib.must(t, err)
		if string(caEU.Data["ca.crt"]) != string(caUS.Data["ca.crt"]) || string(caEU.Data["ca.key"]) != string(caUS.Data["ca.key"]) {
			t.Error("eu's cilium-ca is not us's: the chart generated its own CA instead of reusing the copied one")
		}
		if caEU.Labels["app.kubernetes.io/managed-by"] != "Helm" || caEU.Annotations["meta.helm.sh/release-name"] != releaseName || caEU.Annotations["meta.helm.sh/release-namespace"] != namespace {
			t.Errorf("eu's cilium-ca is not owned by the Helm release: labels %v annotations %v", caEU.Labels, caEU.Annotations)
		}
		if !strings.Contains(releaseIn(t, cs.kube(cluster.EU)).Manifest, "name: "+caSecret) {
			t.Error("eu's release manifest does not hold cilium-ca: Helm does not own it")
		}
		checkStep(t, ib, "install-cilium")
	},
	clustertest.MeshEnabled: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx := context.Background()
		for _, c := range cluster.Names() {
			// kube-controller-manager ran the chart's Job, its pod completed by kwok.
			eventually(t, "the certificate Job in "+string(c)+" completes", func(ctx context.Context) error {
				j, err := certJob(ctx, cs.kube(c))
				if err != nil {
					return err
				}
				if !jobCondition(j, batchv1.JobComplete) {
					return fmt.Errorf("job %s not complete: %+v", j.Name, j.Status)
				}
				return nil
			})
			if !ib.log.has(fmt.Sprintf("clustermesh-apiserver is ready in %s: Deployment rolled out, certificates issued, Service type NodePort, NodePort %d", c, cluster.DefaultMeshNodePort)) {
				t.Errorf("%s: the log does not say the clustermesh-apiserver is ready", c)
			}
			svc, err := cs.kube(c).CoreV1().Services(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
			ib.must(t, err)
			if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != cluster.DefaultMeshNodePort {
				t.Errorf("%s: clustermesh-apiserver Service %s nodePort %d, want NodePort %d", c, svc.Spec.Type, svc.Spec.Ports[0].NodePort, cluster.DefaultMeshNodePort)
			}
			rel := releaseIn(t, cs.kube(c))
			if name, _ := lookup(rel.Config, "cluster.name"); rel.Version != 2 || name != string(c) {
				t.Errorf("%s: revision %d with cluster.name %v, want 2 reusing the install values", c, rel.Version, name)
			}
		}
		checkStep(t, ib, "enable-clustermesh")

		// This backend refuses clusters whose CAs differ (where the seed's
		// cilium-cli warned): eu runs with another CA, its remote
		// certificate signed by that one, so only the comparison fails.
		secrets := cs.kube(cluster.EU).CoreV1().Secrets(namespace)
		get := func(name string) *corev1.Secret {
			s, err := secrets.Get(ctx, name, metav1.GetOptions{})
			ib.must(t, err)
			return s
		}
		restore := func(s *corev1.Secret) {
			cur := get(s.Name)
			cur.Data = s.Data
			if _, err := secrets.Update(ctx, cur, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		ca, rc := get(caSecret), get(remoteCert)
		other := newTestCA(t, "Cilium CA")
		restore(other.secret())
		restore(other.certSecret(t, remoteCert, "remote"))
		err := ib.Connect(ctx, cluster.US, cluster.EU, ib.log)
		restore(ca)
		restore(rc)
		if err == nil || !strings.Contains(err.Error(), "Cilium CA certificates do not match between clusters") || cluster.HintOf(err) == "" {
			t.Errorf("CA mismatch: Connect = %v (hint %q), want a refusal with a hint", err, cluster.HintOf(err))
		}
		if r := revisions(t, cs); r != [2]int{2, 2} {
			t.Errorf("CA mismatch: a refused connect upgraded the releases to %v", r)
		}
	},
	clustertest.Connected: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx := context.Background()
		for _, c := range cluster.Names() {
			peer := c.Peer()
			// Connecting again, either way round, made no revision.
			rel := releaseIn(t, cs.kube(c))
			if rel.Version != 3 {
				t.Errorf("%s: revision %d after connect, want 3", c, rel.Version)
			}
			enabled, _ := lookup(rel.Config, "clustermesh.config.enabled")
			clusters, _ := lookup(rel.Config, "clustermesh.config.clusters")
			entry := fmt.Sprintf("[map[ips:[%s] name:%s port:%d]]", nodeAddress(peer, 0), peer, cluster.DefaultMeshNodePort)
			if enabled != true || fmt.Sprint(clusters) != entry {
				t.Errorf("%s: clustermesh.config enabled %v clusters %v, want true %s", c, enabled, clusters, entry)
			}
			// With KVStoreMesh (the 1.19 default) kvstoremesh connects to the
			// peer's NodePort through its mesh.cilium.io name, and the agents
			// read the peer from the local clustermesh-apiserver.
			want := map[string]string{
				kvstoreSecret: fmt.Sprintf("https://%s.mesh.cilium.io:%d", peer, cluster.DefaultMeshNodePort),
				meshSecret:    "https://clustermesh-apiserver.kube-system.svc:2379",
			}
			for name, endpoint := range want {
				s, err := cs.kube(c).CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
				ib.must(t, err)
				if !strings.Contains(string(s.Data[string(peer)]), "endpoints:\n- "+endpoint+"\n") {
					t.Errorf("%s: secret %s[%s] = %q, want endpoint %s", c, name, peer, s.Data[string(peer)], endpoint)
				}
			}
			// KVStoreMesh (the 1.19 default) connects from the
			// clustermesh-apiserver pod: the peer's name resolves there.
			d, err := cs.kube(c).AppsV1().Deployments(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
			ib.must(t, err)
			if !hasHostAlias(d.Spec.Template.Spec, nodeAddress(peer, 0), string(peer)+".mesh.cilium.io") {
				t.Errorf("%s: clustermesh-apiserver hostAliases %v lack %s.mesh.cilium.io -> %s", c, d.Spec.Template.Spec.HostAliases, peer, nodeAddress(peer, 0))
			}
		}
		checkStep(t, ib, "connect")
	},
	clustertest.Hubble: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx := context.Background()
		for _, c := range cluster.Names() {
			rel := releaseIn(t, cs.kube(c))
			if rel.Version != 4 {
				t.Errorf("%s: revision %d after the hubble step, want 4", c, rel.Version)
			}
			if name, _ := lookup(rel.Config, "cluster.name"); name != string(c) {
				t.Errorf("%s: the upgrade lost cluster.name: %v", c, rel.Config)
			}
			// The API server took the Services as the chart renders them
			// from the step's values, NodePorts on the seed's ports.
			for name, port := range map[string]int32{hubbleRelay: cluster.HubbleRelayNodePort, hubbleUI: cluster.HubbleUINodePort} {
				svc, err := cs.kube(c).CoreV1().Services(namespace).Get(ctx, name, metav1.GetOptions{})
				ib.must(t, err)
				if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != port {
					t.Errorf("%s: Service %s %s nodePort %d, want NodePort %d", c, name, svc.Spec.Type, svc.Spec.Ports[0].NodePort, port)
				}
			}
			st, err := ib.Status(ctx, c)
			ib.must(t, err)
			if st.Hubble.Line() != "hubble relay ready :31234 · ui ready :31235" {
				t.Errorf("%s: hubble %+v (%s)", c, st.Hubble, st.Hubble.Line())
			}
		}
		checkStep(t, ib, "hubble")
	},
	clustertest.Deployed: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx := context.Background()
		for _, want := range []string{"configmap/hello-world-nginx created", "deployment.apps/hello-world created", "service/hello-world created", "deployment.apps/busybox-deployment created", `deployment "busybox-deployment" successfully rolled out in eu`} {
			if !ib.log.has(want) {
				t.Errorf("log lacks %q", want)
			}
		}
		for _, c := range cluster.Names() {
			d, err := cs.kube(c).AppsV1().Deployments(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
			ib.must(t, err)
			if !appliedByLab(d.ManagedFields) {
				t.Errorf("%s: hello-world was not server-side applied by %s: %v", c, fieldManager, d.ManagedFields)
			}
		}
		// Applying again says every object is unchanged (the suite saw
		// their resourceVersions stay).
		log := &lines{}
		ib.must(t, both(func(c cluster.Name) error { return ib.DeployDemo(ctx, c, log) }))
		if n := strings.Count(log.String(), " unchanged"); n != 8 {
			t.Errorf("re-apply: %d objects unchanged, want 8:\n%s", n, log)
		}
	},
	clustertest.Global: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx, eu := context.Background(), cluster.EU
		// Not shared, then shared again, as the playground toggles it.
		for _, shared := range []bool{false, true} {
			ib.must(t, ib.ConfigureService(ctx, eu, cluster.ServiceChange{Shared: cluster.Bool(shared)}, ib.log))
			svc, err := cs.kube(eu).CoreV1().Services(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
			ib.must(t, err)
			if svc.Annotations[cluster.AnnotationGlobal] != "true" || svc.Annotations[cluster.AnnotationShared] != fmt.Sprint(shared) {
				t.Errorf("eu: annotations %v, want global and shared %t", svc.Annotations, shared)
			}
			st, err := ib.Status(ctx, eu)
			ib.must(t, err)
			if s := st.Demo.Service.Settings; !s.Global || s.Shared != shared {
				t.Errorf("eu: service settings %+v, want global, shared %t", s, shared)
			}
		}
	},
	clustertest.Failover: func(t *testing.T, cs *clusters, ib *integrationBackend) {
		ctx, kc := context.Background(), cs.kube(cluster.US)
		svc, err := kc.CoreV1().Services(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
		ib.must(t, err)
		if svc.Annotations[cluster.AnnotationGlobal] != "true" || svc.Annotations[cluster.AnnotationAffinity] != "local" {
			t.Errorf("us: annotations %v, want global and affinity local", svc.Annotations)
		}
		// Through the scale subresource, which the real API server serves
		// (the fake clientset needed reactors for it).
		d, err := kc.AppsV1().Deployments(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
		ib.must(t, err)
		if *d.Spec.Replicas != 0 || d.Status.Replicas != 0 {
			t.Errorf("hello-world in us: spec replicas %d, status replicas %d; want 0", *d.Spec.Replicas, d.Status.Replicas)
		}
		pods, err := kc.CoreV1().Pods(demoNamespace).List(ctx, metav1.ListOptions{LabelSelector: "app=hello-world"})
		ib.must(t, err)
		if len(pods.Items) != 0 {
			t.Errorf("%d hello-world pods left after the rollout to 0", len(pods.Items))
		}
	},
}

// setIdentity changes a key of cilium-config (cluster-id, cluster-name),
// as a learner's own (mis)configuration would.
func setIdentity(t *testing.T, kc kubernetes.Interface, key, value string) {
	t.Helper()
	cm, err := kc.CoreV1().ConfigMaps(namespace).Get(context.Background(), ciliumConfig, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cm.Data[key] = value
	if _, err := kc.CoreV1().ConfigMaps(namespace).Update(context.Background(), cm, metav1.UpdateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// storedVersions renders what the clusters store that the backend writes:
// the cilium release's revisions in Helm's storage, and the
// resourceVersions (generations for workloads, whose status the
// controllers keep writing) of kube-system's and the demo's objects.
func storedVersions(t *testing.T, cs *clusters) string {
	t.Helper()
	ctx := context.Background()
	var out []string
	for _, c := range cluster.Names() {
		kc := cs.kube(c)
		for _, ns := range []string{namespace, demoNamespace} {
			secrets, err := kc.CoreV1().Secrets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets.Items {
				out = append(out, fmt.Sprintf("%s: secret %s/%s %s", c, ns, s.Name, s.ResourceVersion))
			}
			cms, err := kc.CoreV1().ConfigMaps(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, cm := range cms.Items {
				out = append(out, fmt.Sprintf("%s: configmap %s/%s %s", c, ns, cm.Name, cm.ResourceVersion))
			}
			svcs, err := kc.CoreV1().Services(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range svcs.Items {
				out = append(out, fmt.Sprintf("%s: service %s/%s %s", c, ns, s.Name, s.ResourceVersion))
			}
			deps, err := kc.AppsV1().Deployments(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range deps.Items {
				out = append(out, fmt.Sprintf("%s: deployment %s/%s generation %d", c, ns, d.Name, d.Generation))
			}
			dss, err := kc.AppsV1().DaemonSets(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range dss.Items {
				out = append(out, fmt.Sprintf("%s: daemonset %s/%s generation %d", c, ns, d.Name, d.Generation))
			}
		}
	}
	slices.Sort(out)
	return strings.Join(out, "\n")
}

// hasHostAlias reports whether the pod spec maps host to ip.
func hasHostAlias(spec corev1.PodSpec, ip, host string) bool {
	for _, h := range spec.HostAliases {
		if h.IP == ip {
			for _, n := range h.Hostnames {
				if n == host {
					return true
				}
			}
		}
	}
	return false
}

// appliedByLab reports whether the lab's field manager holds fields of
// the object through a server-side apply.
func appliedByLab(fields []metav1.ManagedFieldsEntry) bool {
	for _, f := range fields {
		if f.Manager == fieldManager && f.Operation == metav1.ManagedFieldsOperationApply && f.Subresource == "" {
			return true
		}
	}
	return false
}

// cancelWhenPending cancels the returned context as soon as the cluster's
// Helm storage records a release as pending: where a learner's second
// ctrl+c interrupts an install or upgrade. It stops when the test ends.
func cancelWhenPending(t *testing.T, kc kubernetes.Interface) context.Context {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		for ctx.Err() == nil {
			list, err := kc.CoreV1().Secrets(namespace).List(ctx, metav1.ListOptions{LabelSelector: "owner=helm,name=" + releaseName})
			if err == nil {
				for _, s := range list.Items {
					if strings.HasPrefix(s.Labels["status"], "pending-") {
						cancel()
					}
				}
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	return ctx
}

// TestIntegrationInterrupted interrupts the install and the enabling of
// Cluster Mesh in us while Helm applies them (the context is cancelled
// once Helm has recorded the release pending, as a second ctrl+c does),
// then runs them again, as a learner retries the step: the retry must
// converge on the installed, enabled cluster, whatever state the
// interrupted Helm operation left (Helm may finish an install it was told
// to abandon, or mark the upgrade failed). It installs the other
// published chart, 1.18.11, as --cilium-chart with an older Cilium does.
func TestIntegrationInterrupted(t *testing.T) {
	t.Parallel()
	const version = "1.18.11"
	cs := startClusters(t, cluster.US)
	runCertgen(t, cs)
	ib := newIntegrationBackend(t, cs, t.TempDir(), version)
	us := cluster.US
	ctx := context.Background()
	ib.must(t, ib.CreateCluster(ctx, us, ib.log))
	for _, op := range []struct {
		name string
		run  func(ctx context.Context) error
	}{
		{"install", func(ctx context.Context) error { return ib.InstallCilium(ctx, us, ib.log) }},
		{"enable", func(ctx context.Context) error { return ib.EnableClusterMesh(ctx, us, ib.log) }},
	} {
		if err := op.run(cancelWhenPending(t, cs.kube(us))); err != nil && !errors.Is(err, context.Canceled) {
			t.Fatalf("interrupted %s: %v, want context canceled", op.name, err)
		}
		if err := op.run(ctx); err != nil {
			t.Fatalf("%s again after the interruption: %v (hint: %s)", op.name, err, cluster.HintOf(err))
		}
	}
	ib.must(t, ib.WaitCilium(ctx, us, ib.log))
	rel := releaseIn(t, cs.kube(us))
	if name, _ := lookup(rel.Config, "cluster.name"); name != string(us) || !meshEnabledIn(rel.Config) || rel.Chart.Metadata.Version != version {
		t.Errorf("release after the retries: chart %s values %v", rel.Chart.Metadata.Version, rel.Config)
	}
	st, err := ib.Status(ctx, us)
	ib.must(t, err)
	if !st.Cilium.Ready() || !st.Mesh.Ready() || st.Mesh.NodePort != cluster.DefaultMeshNodePort || st.Cilium.Version != version {
		t.Errorf("status after the retries: %+v", st)
	}
}
