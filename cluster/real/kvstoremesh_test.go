package real

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// kvstoremeshSample reads a recorded `clustermesh-apiserver kvstoremesh-dbg
// status -o json`: Cilium 1.19's models.RemoteCluster list, indented, then
// the empty line the command prints after it.
func kvstoremeshSample(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/kvstoremesh-status-" + name + ".json")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func TestParseKVStoreMeshStatus(t *testing.T) {
	ready, err := parseKVStoreMeshStatus([]byte(kvstoremeshSample(t, "ready")))
	if err != nil {
		t.Fatal(err)
	}
	if len(ready) != 1 || ready[0].Name != "eu" || !ready[0].Connected || !ready[0].Ready || !ready[0].Synced.all() || !strings.HasPrefix(ready[0].Status, "etcd: 1/1 connected") {
		t.Errorf("ready sample: %+v", ready)
	}
	down, err := parseKVStoreMeshStatus([]byte(kvstoremeshSample(t, "down")))
	if err != nil {
		t.Fatal(err)
	}
	if len(down) != 1 || down[0].Connected || down[0].Ready || down[0].Config != nil {
		t.Errorf("down sample: %+v", down)
	}
	for _, bad := range []string{"", "Failed to retrieve status information: is KVStoreMesh running and serving the API on localhost:9889?", `{"name":"eu"}`} {
		if _, err := parseKVStoreMeshStatus([]byte(bad)); err == nil {
			t.Errorf("%q parsed", bad)
		}
	}
	// A remote cluster without a name is no link (FuzzKVStoreMeshStatus
	// found "" listed as one).
	nameless, err := parseKVStoreMeshStatus([]byte(`[{}, {"name":"eu","connected":true}]`))
	if err != nil {
		t.Fatal(err)
	}
	if l := links([]string{"eu"}, nameless, nil); len(l) != 1 || l[0].Name != "eu" {
		t.Errorf("links of a nameless entry: %+v", l)
	}
}

// The links say what KVStoreMesh says, name a broken link as such, and
// tell an unreadable KVStoreMesh from a link that is down.
func TestLinks(t *testing.T) {
	ready, _ := parseKVStoreMeshStatus([]byte(kvstoremeshSample(t, "ready")))
	down, _ := parseKVStoreMeshStatus([]byte(kvstoremeshSample(t, "down")))
	cases := []struct {
		name   string
		report []remoteCluster
		err    error
		want   string
		ok     bool
	}{
		{"up", ready, nil, "peer link us→eu: up, synced", true},
		{"down", down, nil, "peer link us→eu: down: Waiting for initial connection to be established", false},
		{"not listed", nil, nil, "peer link us→eu: down: kvstoremesh does not list eu yet", false},
		{"unreadable", nil, errors.New("container not found"), "peer link us→eu: unknown: cannot read kvstoremesh: container not found", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := links([]string{"eu"}, tc.report, tc.err)
			if len(got) != 1 || got[0].String(cluster.US) != tc.want || got[0].OK() != tc.ok {
				t.Errorf("links = %+v (%q), want %q, ok %t", got, got[0].String(cluster.US), tc.want, tc.ok)
			}
		})
	}
}

// Status reads both layers on client-go fakes: the agents (through their
// local apiserver, eu via kvstoremesh) and KVStoreMesh's link to eu, from
// the clustermesh-apiserver pod's kvstoremesh container.
func TestStatusReadsKVStoreMesh(t *testing.T) {
	ctx := context.Background()
	ca := newTestCA(t, "Cilium CA")
	api := &appsv1.Deployment{ObjectMeta: metav1.ObjectMeta{Name: meshAPIServer, Namespace: namespace}, Spec: appsv1.DeploymentSpec{Replicas: ptr(int32(1))},
		Status: appsv1.DeploymentStatus{ReadyReplicas: 1, AvailableReplicas: 1}}
	mesh := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: meshSecret, Namespace: namespace}, Data: map[string][]byte{"eu": []byte("endpoints: ...")}}
	apiPod := &corev1.Pod{ObjectMeta: metav1.ObjectMeta{Name: "clustermesh-apiserver-6d8f9-x2x4q", Namespace: namespace, Labels: map[string]string{"k8s-app": "clustermesh-apiserver"}},
		Spec:   corev1.PodSpec{Containers: []corev1.Container{{Name: "etcd"}, {Name: "apiserver"}, {Name: kvstoremeshCtr}}},
		Status: corev1.PodStatus{Phase: corev1.PodRunning}}
	us := meshCluster(t, cluster.US, 1, ca, api, mesh, apiPod)
	tb := newTestBackend(t, "", us, nil, func(o *Options) { o.StatusCacheTTL = -1 })
	tb.markCreated(t, cluster.US)
	for _, pod := range agentPods(t, us, cluster.US) {
		tb.exec.set("us/"+pod+"/cilium-agent", agentJSON(cluster.EU, true, ""))
	}
	tb.exec.set("us/"+apiPod.Name+"/kvstoremesh", kvstoremeshSample(t, "ready"))

	st, err := tb.Status(ctx, cluster.US)
	if err != nil {
		t.Fatal(err)
	}
	p, _ := st.Mesh.Peer(cluster.EU)
	l, ok := st.Mesh.Link(cluster.EU)
	if !p.OK() || p.ViaKVStoreMesh != 3 || p.AgentsLine() != "agents 3/3 connected · eu via kvstoremesh" {
		t.Errorf("agents: %+v", p)
	}
	if !ok || !l.OK() || l.String(cluster.US) != "peer link us→eu: up, synced" {
		t.Errorf("link: %+v", l)
	}
	if !strings.Contains(strings.Join(tb.exec.calls, "\n"), "us/"+apiPod.Name+"/kvstoremesh clustermesh-apiserver kvstoremesh-dbg status -o json") {
		t.Errorf("exec calls %v", tb.exec.calls)
	}
	// The peer's apiserver goes away: the link is down, the agents stay
	// connected to theirs, and WaitConnected says which layer is broken.
	tb.exec.set("us/"+apiPod.Name+"/kvstoremesh", kvstoremeshSample(t, "down"))
	st, err = tb.Status(ctx, cluster.US)
	if err != nil {
		t.Fatal(err)
	}
	p, _ = st.Mesh.Peer(cluster.EU)
	l, _ = st.Mesh.Link(cluster.EU)
	if !p.OK() || l.OK() || !strings.HasPrefix(l.String(cluster.US), "peer link us→eu: down") {
		t.Errorf("peer apiserver gone: agents %+v, link %+v", p, l)
	}
	tb.timeouts.Connect = 20 * tb.poll
	err = tb.WaitConnected(ctx, cluster.US, &lines{})
	if err == nil || !strings.Contains(err.Error(), "peer link us→eu: down") || !strings.Contains(cluster.HintOf(err), "kvstoremesh-dbg status") {
		t.Errorf("WaitConnected with the link down: %v (hint %q)", err, cluster.HintOf(err))
	}
}
