package real

import (
	"context"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// meshCluster builds the objects of a cluster with Cilium installed and
// Cluster Mesh enabled, as cilium-cli reads them when connecting: the
// config, the apiserver Service, nodes and the Secrets with certificates
// signed by ca.
func meshCluster(t testing.TB, c cluster.Name, id int, ca *testCA, extra ...runtime.Object) *fakeCluster {
	t.Helper()
	objs := append(kindNodes(c), kubeSystem(),
		&corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: ciliumConfig, Namespace: namespace},
			Data: map[string]string{"cluster-name": string(c), "cluster-id": fmt.Sprint(id), "max-connected-clusters": "255", "ipam": "kubernetes"}},
		&corev1.Service{ObjectMeta: metav1.ObjectMeta{Name: meshAPIServer, Namespace: namespace},
			Spec: corev1.ServiceSpec{Type: corev1.ServiceTypeNodePort, Ports: []corev1.ServicePort{{Port: 2379, NodePort: cluster.DefaultMeshNodePort}}}},
		ca.secret(),
		ca.certSecret(t, remoteCert, "remote"),
		ca.certSecret(t, serverCert, "*.mesh.cilium.io"),
	)
	return newFakeCluster(append(objs, extra...)...)
}

// missingOf returns the prerequisite sentinel err wraps, or nil.
func missingOf(err error) error {
	for _, s := range cluster.Prerequisites() {
		if errors.Is(err, s) {
			return s
		}
	}
	return nil
}

// TestConnectValidation checks connect's extraction and validation against
// fake clusters: what works, then each way it must fail that is this
// backend's own (a shared id or name, a missing remote certificate and the
// missing prerequisites are the conformance suite's, TestConformance).
func TestConnectValidation(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Cilium CA")
	good := func() (*fakeCluster, *fakeCluster) {
		return meshCluster(t, cluster.US, 1, ca), meshCluster(t, cluster.EU, 2, ca)
	}
	us, eu := good()
	tb := newTestBackend(t, "", us, eu)
	for _, c := range cluster.Names() {
		info, err := tb.extract(ctx, c)
		if err != nil {
			t.Fatal(err)
		}
		want := accessInfo{cluster: c, ciliumIdentity: ciliumIdentity{Name: string(c), ID: c.ID(), Max: 255}, ServiceType: "NodePort",
			NodePort: cluster.DefaultMeshNodePort, IP: fmt.Sprintf("172.18.0.%d", 2+3*c.Index()), CA: caID(ca.cert)}
		if info != want {
			t.Errorf("%s: extracted %+v, want %+v", c, info, want)
		}
	}

	cases := []struct {
		name  string
		setup func(us, eu *fakeCluster)
		want  string
	}{
		{"default name", func(us, eu *fakeCluster) {
			cm, _ := us.kc.CoreV1().ConfigMaps(namespace).Get(ctx, ciliumConfig, metav1.GetOptions{})
			cm.Data["cluster-name"] = "default"
			us.kc.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
		}, `has cluster name "default"`},
		{"CA mismatch", func(us, eu *fakeCluster) {
			other := newTestCA(t, "Cilium CA")
			eu.kc.CoreV1().Secrets(namespace).Update(ctx, other.secret(), metav1.UpdateOptions{})
			eu.kc.CoreV1().Secrets(namespace).Update(ctx, other.certSecret(t, remoteCert, "remote"), metav1.UpdateOptions{})
		}, "Cilium CA certificates do not match between clusters"},
		{"remote cert from another CA", func(us, eu *fakeCluster) {
			eu.kc.CoreV1().Secrets(namespace).Update(ctx, newTestCA(t, "x").certSecret(t, remoteCert, "remote"), metav1.UpdateOptions{})
		}, "is not signed by its cilium-ca"},
		{"no node IP", func(us, eu *fakeCluster) {
			nodes, _ := eu.kc.CoreV1().Nodes().List(ctx, metav1.ListOptions{})
			for _, n := range nodes.Items {
				n.Status.Addresses = nil
				eu.kc.CoreV1().Nodes().UpdateStatus(ctx, &n, metav1.UpdateOptions{})
			}
		}, "no node of eu has an address"},
		{"ClusterIP service", func(us, eu *fakeCluster) {
			svc, _ := us.kc.CoreV1().Services(namespace).Get(ctx, meshAPIServer, metav1.GetOptions{})
			svc.Spec.Type, svc.Spec.Ports[0].NodePort = corev1.ServiceTypeClusterIP, 0
			us.kc.CoreV1().Services(namespace).Update(ctx, svc, metav1.UpdateOptions{})
		}, "is ClusterIP without a NodePort"},
		{"max-connected-clusters differs", func(us, eu *fakeCluster) {
			cm, _ := eu.kc.CoreV1().ConfigMaps(namespace).Get(ctx, ciliumConfig, metav1.GetOptions{})
			cm.Data["max-connected-clusters"] = "511"
			eu.kc.CoreV1().ConfigMaps(namespace).Update(ctx, cm, metav1.UpdateOptions{})
		}, "max-connected-clusters differs"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			us, eu := good()
			tc.setup(us, eu)
			tb := newTestBackend(t, "", us, eu, func(o *Options) {
				o.Helm = func(cluster.Name, func(string, ...any)) (*actionConfig, error) {
					t.Error("Helm used although validation failed")
					return nil, errors.New("no Helm")
				}
			})
			log := &lines{}
			err := tb.Connect(ctx, cluster.US, cluster.EU, log)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want %q", err, tc.want)
			}
			// A missing prerequisite is a sentinel, which the steps turn
			// into "run step N first"; anything else says what to do.
			if missing := missingOf(err); missing == nil && cluster.HintOf(err) == "" {
				t.Errorf("no hint and no prerequisite with %v", err)
			}
		})
	}
}

// TestShareCAKeepsHelmOwnership checks the copy of cilium-ca beyond the
// conformance suite's semantics: Helm's ownership is kept with the data,
// and a leftover CA in a cluster without Cilium is replaced.
func TestShareCAKeepsHelmOwnership(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Cilium CA")
	src := ca.secret()
	src.Labels["cilium.io/helm-template-non-idempotent"] = "true"
	us := newFakeCluster(kubeSystem(), src)
	eu := newFakeCluster(kubeSystem())
	tb := newTestBackend(t, "", us, eu)
	log := &lines{}
	if err := tb.ShareCA(ctx, cluster.US, cluster.EU, log); err != nil {
		t.Fatal(err)
	}
	got, err := eu.kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if string(got.Data["ca.crt"]) != string(ca.certPEM) || string(got.Data["ca.key"]) != string(ca.keyPEM) {
		t.Error("copied data differs")
	}
	want := map[string]string{"app.kubernetes.io/managed-by": "Helm", "cilium.io/helm-template-non-idempotent": "true"}
	for k, v := range want {
		if got.Labels[k] != v {
			t.Errorf("label %s = %q, want %q", k, got.Labels[k], v)
		}
	}
	for k, v := range map[string]string{"meta.helm.sh/release-name": "cilium", "meta.helm.sh/release-namespace": "kube-system"} {
		if got.Annotations[k] != v {
			t.Errorf("annotation %s = %q, want %q", k, got.Annotations[k], v)
		}
	}

	// A leftover CA without Cilium is replaced.
	other := newTestCA(t, "Other CA")
	eu.kc.CoreV1().Secrets(namespace).Update(ctx, other.secret(), metav1.UpdateOptions{})
	if err := tb.ShareCA(ctx, cluster.US, cluster.EU, log); err != nil || !log.has("Replacing the leftover") {
		t.Fatalf("leftover: %v", err)
	}
	if got, _ := eu.kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{}); string(got.Data["ca.crt"]) != string(ca.certPEM) {
		t.Error("the leftover CA is still there")
	}
}

// TestEnableWaitsForTheCertificateJob checks the wait after enabling:
// while the Job runs the error on timeout says so; a failed Job stops the
// wait at once.
func TestEnableWaitsForTheCertificateJob(t *testing.T) {
	ctx := context.Background()
	job := &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: "clustermesh-apiserver-generate-certs-abc", Namespace: namespace, Labels: map[string]string{"k8s-app": "clustermesh-apiserver-generate-certs"}},
		Status: batchv1.JobStatus{Active: 1}}
	fc := newFakeCluster(kubeSystem(), job)
	tb := newTestBackend(t, "", fc, nil, func(o *Options) { o.Timeouts.Mesh = 50 * time.Millisecond })
	log := &lines{}
	hint := "h"
	err := tb.waitFor(ctx, log, "the certificates", tb.timeouts.Mesh, hint, func(ctx context.Context) (bool, string, error) { return certsReady(ctx, fc.kc) })
	if err == nil || !strings.Contains(err.Error(), "job clustermesh-apiserver-generate-certs-abc running (1 active), secrets clustermesh-apiserver-server-cert, clustermesh-apiserver-remote-cert missing") {
		t.Fatalf("running Job: %v", err)
	}
	if !log.has("Waiting for the certificates: job clustermesh-apiserver-generate-certs-abc running") {
		t.Errorf("no progress line:\n%s", log)
	}
	job.Status = batchv1.JobStatus{Conditions: []batchv1.JobCondition{{Type: batchv1.JobFailed, Status: corev1.ConditionTrue}}}
	fc.kc.BatchV1().Jobs(namespace).UpdateStatus(ctx, job, metav1.UpdateOptions{})
	start := time.Now()
	err = tb.waitFor(ctx, log, "the certificates", time.Minute, hint, func(ctx context.Context) (bool, string, error) { return certsReady(ctx, fc.kc) })
	if err == nil || !strings.Contains(err.Error(), "failed") || time.Since(start) > 10*time.Second {
		t.Fatalf("failed Job: %v", err)
	}
}

// TestDemo applies the demo with server-side apply, annotates the
// Service, scales through the scale subresource and reads it all back.
func TestDemo(t *testing.T) {
	ctx := context.Background()
	fc := newFakeCluster(append(kindNodes(cluster.US), kubeSystem())...)
	fc.runController(t)
	tb := newTestBackend(t, "", fc, nil)
	tb.markCreated(t, cluster.US)
	log := &lines{}
	if err := tb.DeployDemo(ctx, cluster.US, log); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	for _, want := range []string{"configmap/hello-world-nginx created", "deployment.apps/hello-world created", "service/hello-world created", "deployment.apps/busybox-deployment created", `deployment "busybox-deployment" successfully rolled out in us`} {
		if !log.has(want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	d, err := fc.kc.AppsV1().Deployments(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
	if err != nil || d.Spec.Template.Spec.Containers[0].Image != "docker.io/library/nginx:1.27.5-alpine" || len(d.ManagedFields) == 0 || d.ManagedFields[0].Manager != fieldManager {
		t.Fatalf("applied deployment: %v %+v", err, d.ManagedFields)
	}

	change := cluster.ServiceChange{Global: cluster.Bool(true), Affinity: cluster.AffinityPtr(cluster.AffinityLocal)}
	if err := tb.ConfigureService(ctx, cluster.US, change, log); err != nil {
		t.Fatal(err)
	}
	if err := tb.ConfigureService(ctx, cluster.US, cluster.ServiceChange{Shared: cluster.Bool(false)}, log); err != nil {
		t.Fatal(err)
	}
	if err := tb.Scale(ctx, cluster.US, 0, log); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	if err := tb.Scale(ctx, cluster.US, 0, log); err != nil || !log.has("already has 0 replica(s)") {
		t.Errorf("scale again: %v", err)
	}
	st, err := tb.Status(ctx, cluster.US)
	if err != nil {
		t.Fatal(err)
	}
	wantSettings := cluster.Settings{Global: true, Shared: false, Affinity: cluster.AffinityLocal}
	if !st.Demo.Service.Exists || st.Demo.Service.Settings != wantSettings || st.Demo.HelloWorld.Desired != 0 || !st.Demo.HelloWorld.Present || !st.Demo.Busybox.OK() {
		t.Errorf("demo status %+v", st.Demo)
	}
	if st.Cilium.Installed || st.Mesh.Enabled {
		t.Errorf("cilium status of a bare cluster: %+v %+v", st.Cilium, st.Mesh)
	}
	// Removing an annotation: a nil value in the patch.
	svc, _ := fc.kc.CoreV1().Services(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
	if svc.Annotations[cluster.AnnotationAffinity] != "local" || svc.Annotations[cluster.AnnotationShared] != "false" {
		t.Errorf("annotations %v", svc.Annotations)
	}

	// Applying again restores the replicas the manifest owns and leaves
	// the rest unchanged, annotations included.
	log2 := &lines{}
	if err := tb.DeployDemo(ctx, cluster.US, log2); err != nil {
		t.Fatal(err)
	}
	// The fake tracker keeps no resourceVersions, so "unchanged" (same
	// version before and after) cannot show here; nothing is created again.
	if log2.has("created") || !log2.has("deployment.apps/hello-world configured") {
		t.Errorf("re-apply:\n%s", log2)
	}
	if d, _ := fc.kc.AppsV1().Deployments(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{}); *d.Spec.Replicas != 1 {
		t.Errorf("re-apply left %d replicas, want the manifest's 1", *d.Spec.Replicas)
	}
	svc, _ = fc.kc.CoreV1().Services(demoNamespace).Get(ctx, helloWorld, metav1.GetOptions{})
	if svc.Annotations[cluster.AnnotationGlobal] != "true" {
		t.Errorf("re-apply dropped the annotations: %v", svc.Annotations)
	}
}

// TestStatusSummarisesAgents reads the mesh peers from recorded agent
// outputs, as cilium-cli does, and checks the cache.
func TestStatusSummarisesAgents(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Cilium CA")
	image := "quay.io/cilium/cilium:v1.19.5@sha256:0123"
	ds := &appsv1.DaemonSet{ObjectMeta: metav1.ObjectMeta{Name: ciliumDaemonSet, Namespace: namespace},
		Spec:   appsv1.DaemonSetSpec{Template: corev1.PodTemplateSpec{Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: ciliumAgentCtr, Image: image}}}}},
		Status: appsv1.DaemonSetStatus{DesiredNumberScheduled: 3, NumberReady: 3, NumberAvailable: 3}}
	op := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: ciliumOperator, Namespace: namespace}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1))},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1, AvailableReplicas: 1}}
	api := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: meshAPIServer, Namespace: namespace}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1))},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1, AvailableReplicas: 1}}
	mesh := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: meshSecret, Namespace: namespace}, Data: map[string][]byte{"eu": []byte("endpoints: ...")}}
	us := meshCluster(t, cluster.US, 1, ca, ds, op, api, mesh)
	tb := newTestBackend(t, "", us, nil)
	tb.markCreated(t, cluster.US)
	pods := agentPods(t, us, cluster.US)
	tb.exec.set("us/"+pods[0]+"/cilium-agent", agentJSON(cluster.EU, true, ""))
	tb.exec.set("us/"+pods[1]+"/cilium-agent", agentJSON(cluster.EU, false, "connecting to https://clustermesh-apiserver.kube-system.svc:2379: context deadline exceeded"))
	// pods[2] has no recorded output: its exec fails.

	st, err := tb.Status(ctx, cluster.US)
	if err != nil {
		t.Fatal(err)
	}
	p, ok := st.Mesh.Peer(cluster.EU)
	if !ok || p.String() != "eu: 2/3 configured, 1/3 connected" || !strings.Contains(p.Problem, "context deadline exceeded") {
		t.Errorf("peer %+v", p)
	}
	if st.Cilium.Version != "1.19.5" || st.Cilium.CA != caID(ca.cert) || st.Cilium.ClusterName != "us" || !st.Cilium.Ready() || !st.Mesh.Ready() || st.Mesh.NodePort != 32379 || st.Nodes != (cluster.Count{Ready: 3, Total: 3}) {
		t.Errorf("status %+v", st)
	}
	calls := tb.exec.count()
	if calls != 3 {
		t.Errorf("%d execs for one status, want one per agent", calls)
	}
	// A TUI tick later: the agents are not asked again, even by readers at once.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() { tb.Status(ctx, cluster.US) })
	}
	wg.Wait()
	if tb.exec.count() != calls {
		t.Errorf("status polls exec'd again within the cache's lifetime: %d calls", tb.exec.count())
	}
	// WaitConnected reads afresh and times out saying what is missing.
	tb.timeouts.Connect = 30 * time.Millisecond
	err = tb.WaitConnected(ctx, cluster.US, &lines{})
	if err == nil || !strings.Contains(err.Error(), "eu: 2/3 configured, 1/3 connected") {
		t.Errorf("wait: %v", err)
	}
	if tb.exec.count() == calls {
		t.Error("WaitConnected used the cached reading")
	}
}

func TestSummarisePeers(t *testing.T) {
	st := func(js string) agentStatus {
		s, err := parseAgentStatus([]byte(js))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	// A real agent's output (trimmed): fields omitted when false or zero.
	full := `{"cluster-mesh":{"clusters":[{"name":"eu","connected":true,"ready":true,"status":"3 nodes, 7 endpoints, 5 identities, 1 services, 0 MCS-API service exports, 0 reconnections (last: never)","num-nodes":3,"num-endpoints":7,"num-identities":5,"num-shared-services":1,"synced":{"nodes":true,"services":true,"endpoints":true,"identities":true}}],"num-global-services":1},"kvstore":{"state":"Disabled"}}`
	reports := []agentReport{{pod: "a", status: st(full)}, {pod: "b", status: st(full)}, {pod: "c", status: st(full)}}
	got := summarisePeers(3, reports, []string{"eu"})
	if len(got) != 1 || !got[0].OK() || got[0].String() != "eu: 3/3 configured, 3/3 connected" {
		t.Errorf("all connected: %+v", got)
	}
	// Configured but not yet reported by any agent.
	got = summarisePeers(3, []agentReport{{pod: "a", status: st(`{}`)}, {pod: "b", err: errors.New("container not found")}}, []string{"eu"})
	if got[0].String() != "eu: 0/3 configured, 0/3 connected" || !strings.Contains(got[0].Problem, "container not found") {
		t.Errorf("none: %+v", got)
	}
	if _, err := parseAgentStatus([]byte("Error: cannot connect")); err == nil {
		t.Error("garbage parsed")
	}
	// An agent that lists the peer twice counts once; an entry without a
	// name is no peer (FuzzAgentStatus found "" listed as a peer).
	twice := st(`{"cluster-mesh":{"clusters":[{"name":"eu","ready":true},{"name":"eu","ready":false,"status":"reconnecting"},{}]}}`)
	got = summarisePeers(1, []agentReport{{pod: "a", status: twice}}, []string{"eu"})
	if len(got) != 1 || got[0].String() != "eu: 1/1 configured, 1/1 connected" {
		t.Errorf("a peer listed twice, a nameless one: %+v", got)
	}
}

// TestProbeCounting feeds the counter recorded outputs of the probe loop,
// in pieces that split lines, and checks the running counts.
func TestProbeCounting(t *testing.T) {
	ctx := context.Background()
	fc := newFakeCluster(&corev1.Pod{
		ObjectMeta: metav1.ObjectMeta{Name: "busybox-deployment-7d4-abcde", Namespace: demoNamespace, Labels: map[string]string{"app": "busybox"}},
		Status:     corev1.PodStatus{Phase: corev1.PodRunning, Conditions: []corev1.PodCondition{{Type: corev1.PodReady, Status: corev1.ConditionTrue}}},
	})
	tb := newTestBackend(t, "", fc, nil)
	tb.exec.chunk = 7
	us := `{"message": "Hello world from US!"}` + "\n"
	eu := `{"message": "Hello world from Europe!"}` + "\n"
	fail := probeFailed + "\n"
	tb.exec.set("us/busybox-deployment-7d4-abcde/busybox", us+eu+us+fail+eu+us+us+eu+fail+us)
	var updates []cluster.ProbeResult
	res, err := tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 10}, func(p cluster.ProbeResult) { updates = append(updates, p) })
	if err != nil {
		t.Fatal(err)
	}
	want := cluster.ProbeResult{From: cluster.US, Requests: 10, Answers: cluster.Answers{US: 5, EU: 3}, Errors: 2}
	if !reflect.DeepEqual(res, want) {
		t.Errorf("got %+v, want %+v", res, want)
	}
	if len(updates) != 10 || updates[0].Done() != 1 || !reflect.DeepEqual(updates[9], want) {
		t.Errorf("progress: %d updates, first %+v", len(updates), updates[0])
	}
	if c := tb.exec.calls[0]; !strings.Contains(c, "seq 1 10") || !strings.Contains(c, "wget -qO- -T 5 hello-world:80") {
		t.Errorf("command: %s", c)
	}
	// The loop died halfway: the counts so far and an error.
	tb.exec.set("us/busybox-deployment-7d4-abcde/busybox", us+us+`{"mess`)
	res, err = tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 10}, nil)
	if err == nil || res.Answers.US != 2 || res.Errors != 1 || !strings.Contains(err.Error(), "after 3 of 10") {
		t.Errorf("short output: %+v %v", res, err)
	}
	if _, err := tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 0}, nil); err == nil {
		t.Error("0 requests accepted")
	}
	if _, err := tb.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: cluster.MaxProbeRequests + 1}, nil); err == nil {
		t.Error("too many requests accepted")
	}
	// No running busybox.
	tb2 := newTestBackend(t, "", newFakeCluster(), nil)
	if _, err := tb2.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 10}, nil); !errors.Is(err, cluster.ErrNoDemo) {
		t.Errorf("no busybox: %v", err)
	}
}

// TestNewIsCheap checks that constructing the backend builds nothing:
// every factory fails the test if called.
func TestNewIsCheap(t *testing.T) {
	b, err := New(Options{
		Dir: t.TempDir(),
		Clients: func(context.Context, cluster.Name) (*Clients, error) {
			t.Error("clients built by New")
			return nil, nil
		},
		Helm: func(cluster.Name, func(string, ...any)) (*actionConfig, error) {
			t.Error("Helm set up by New")
			return nil, nil
		},
		Kind: func(context.Context, cluster.Logger) (KindProvider, error) {
			t.Error("kind built by New")
			return nil, nil
		},
	})
	if err != nil || b.Kind() != "kind" {
		t.Fatal(err)
	}
	if st, err := b.Status(context.Background(), cluster.US); err != nil || st.Exists {
		t.Errorf("status before creation: %+v %v", st, err)
	}
	if _, err := New(Options{}); err == nil {
		t.Error("no lab directory accepted")
	}
	if _, err := New(Options{Dir: "x", CiliumVersion: "latest"}); err == nil {
		t.Error("version latest accepted")
	}
}

// TestNodeIP checks the address connect gives the peer: a control-plane
// node's, ExternalIP before InternalIP.
func TestNodeIP(t *testing.T) {
	node := func(name string, cp bool, addrs ...corev1.NodeAddress) corev1.Node {
		n := corev1.Node{ObjectMeta: metav1.ObjectMeta{Name: name, Labels: map[string]string{}}, Status: corev1.NodeStatus{Addresses: addrs}}
		if cp {
			n.Labels["node-role.kubernetes.io/control-plane"] = ""
		}
		return n
	}
	in := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeInternalIP, Address: ip}
	}
	ex := func(ip string) corev1.NodeAddress {
		return corev1.NodeAddress{Type: corev1.NodeExternalIP, Address: ip}
	}
	cases := []struct {
		nodes []corev1.Node
		want  string
	}{
		{[]corev1.Node{node("w", false, in("10.0.0.2")), node("cp", true, in("10.0.0.1"))}, "10.0.0.1"},
		{[]corev1.Node{node("w", false, ex("1.2.3.4")), node("cp", true, in("10.0.0.1"))}, "1.2.3.4"},
		{[]corev1.Node{node("w", false, in("10.0.0.2"))}, "10.0.0.2"},
		{[]corev1.Node{node("w", false, corev1.NodeAddress{Type: corev1.NodeHostName, Address: "w"})}, ""},
	}
	for i, tc := range cases {
		if got := nodeIP(tc.nodes); got != tc.want {
			t.Errorf("case %d: %q, want %q", i, got, tc.want)
		}
	}
}

// TestAgentStatusCommands checks the agent CLI's two names and that a
// status that exits non-zero but prints its JSON is still read.
func TestAgentStatusCommands(t *testing.T) {
	tb := newTestBackend(t, "", newFakeCluster(), nil)
	tb.exec.fn = func(key string, cmd []string, stdout io.Writer) error {
		if cmd[0] == "cilium" {
			return errors.New(`exec: "cilium": executable file not found in $PATH`)
		}
		io.WriteString(stdout, agentJSON(cluster.EU, false, "waiting for initial connection"))
		return errors.New("command terminated with exit code 1")
	}
	st, err := tb.agentStatusOf(context.Background(), cluster.US, "cilium-abcde")
	if err != nil || st.ClusterMesh == nil || st.ClusterMesh.Clusters[0].Status != "waiting for initial connection" {
		t.Fatalf("%+v %v", st, err)
	}
	if len(tb.exec.calls) != 2 || !strings.Contains(tb.exec.calls[1], "cilium-dbg status -o json") {
		t.Errorf("calls %v", tb.exec.calls)
	}
	tb.exec.fn = func(string, []string, io.Writer) error { return errors.New("container cilium-agent is not running") }
	if _, err := tb.agentStatusOf(context.Background(), cluster.US, "cilium-abcde"); err == nil || !strings.Contains(err.Error(), "not running") {
		t.Errorf("exec failure: %v", err)
	}
}

// TestExecErrorsDropTheCommand checks that an exec error the API server
// reports (as it does when it cannot reach the kubelet) no longer quotes
// the probe's whole script, and still unwraps to the API error.
func TestExecErrorsDropTheCommand(t *testing.T) {
	url := "https://127.0.1.3:10250/exec/default/busybox-1/busybox?command=%2Fbin%2Fsh&command=-c&command=" + strings.Repeat("x", 500) + "&error=1&output=1"
	apiErr := apierrors.NewInternalError(fmt.Errorf("error sending request: Post %q: dial tcp 127.0.1.3:10250: connect: connection refused", url))
	err := withoutCommand(apiErr)
	want := `Internal error occurred: error sending request: Post "https://127.0.1.3:10250/exec/default/busybox-1/busybox": dial tcp 127.0.1.3:10250: connect: connection refused`
	if err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
	if !apierrors.IsInternalError(err) || !errors.Is(err, apiErr) {
		t.Errorf("%v no longer unwraps to the API error", err)
	}
	if other := errors.New("command terminated with exit code 1"); withoutCommand(other) != other {
		t.Error("an error without an exec URL was changed")
	}
}
