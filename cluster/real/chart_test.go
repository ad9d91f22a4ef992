package real

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/release"
	"helm.sh/helm/v3/pkg/repo"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// meshEndpoint finds, in the rendered cilium-clustermesh or (with
// KVStoreMesh, the default since 1.16) cilium-kvstoremesh Secret, the etcd
// configuration for peer that names the peer's public endpoint, and
// returns the Secret's name and the configuration.
func meshEndpoint(t *testing.T, objs []runtime.Object, peer cluster.Name) (string, string) {
	t.Helper()
	for _, o := range objs {
		s, ok := o.(*corev1.Secret)
		if !ok || (s.Name != meshSecret && s.Name != kvstoreSecret) {
			continue
		}
		cfg := string(s.Data[string(peer)])
		if strings.Contains(cfg, ".mesh.cilium.io") {
			return s.Name, cfg
		}
	}
	t.Fatalf("neither %s nor %s holds a mesh.cilium.io endpoint for %s", meshSecret, kvstoreSecret, peer)
	return "", ""
}

// hostAliasesFor collects the hostAliases of the pods that connect to
// remote clusters: the agents, or with KVStoreMesh the clustermesh-apiserver.
func hostAliasesFor(objs []runtime.Object) map[string][]string {
	out := map[string][]string{}
	add := func(spec corev1.PodSpec) {
		for _, h := range spec.HostAliases {
			out[h.IP] = append(out[h.IP], h.Hostnames...)
		}
	}
	for _, o := range objs {
		switch w := o.(type) {
		case *appsv1.DaemonSet:
			if w.Name == ciliumDaemonSet {
				add(w.Spec.Template.Spec)
			}
		case *appsv1.Deployment:
			if w.Name == meshAPIServer {
				add(w.Spec.Template.Spec)
			}
		}
	}
	return out
}

// agentPods adds the three agent pods of a cluster, Running, as the
// DaemonSet would have them.
func agentPods(t *testing.T, fc *fakeCluster, c cluster.Name) []string {
	t.Helper()
	var names []string
	for i, node := range []string{"control-plane", "worker", "worker2"} {
		name := fmt.Sprintf("cilium-%s%d", c, i)
		p := &corev1.Pod{
			ObjectMeta: metav1.ObjectMeta{Name: name, Namespace: namespace, Labels: map[string]string{"k8s-app": "cilium"}},
			Spec:       corev1.PodSpec{NodeName: string(c) + "-" + node, Containers: []corev1.Container{{Name: ciliumAgentCtr}}},
			Status:     corev1.PodStatus{Phase: corev1.PodRunning},
		}
		if _, err := fc.kc.CoreV1().Pods(namespace).Create(context.Background(), p, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		names = append(names, name)
	}
	return names
}

// agentJSON is what `cilium status -o json` prints about the mesh.
func agentJSON(peer cluster.Name, ready bool, status string) string {
	rc := map[string]any{"name": string(peer), "num-nodes": 3}
	if ready {
		// With KVStoreMesh (1.19's default) the agent reads the peer from
		// its local clustermesh-apiserver, whose cache says so.
		rc["ready"], rc["connected"] = true, true
		rc["config"] = map[string]any{"cluster-id": peer.ID(), "kvstoremesh": true, "required": true, "retrieved": true, "sync-canaries": true}
	}
	if status != "" {
		rc["status"] = status
	}
	b, _ := json.Marshal(map[string]any{"cluster-mesh": map[string]any{"clusters": []any{rc}, "num-global-services": 0}})
	return string(b)
}

// TestLabOnPublishedCharts drives the backend through install, CA sharing,
// enable and connect against each published chart, with Helm's in-memory
// release storage and fake kube client, and checks what the chart renders
// from the lab's values. The fake clusters receive the rendered objects
// (as Helm's apply would create them); the test creates the certificate
// Secrets the certgen Job would, signed by the chart's CA.
func TestLabOnPublishedCharts(t *testing.T) {
	for _, version := range chartVersions {
		t.Run(version, func(t *testing.T) {
			t.Parallel()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang guard, not a speed test: -race on a busy 2-core machine is slow
			defer cancel()
			fcs := map[cluster.Name]*fakeCluster{}
			for _, c := range cluster.Names() {
				fcs[c] = newFakeCluster(append(kindNodes(c), kubeSystem())...)
				fcs[c].runController(t)
			}
			tb := newTestBackend(t, chartPath(t, version), fcs[cluster.US], fcs[cluster.EU])
			log := &lines{}
			must := func(err error) {
				t.Helper()
				if err != nil {
					t.Fatalf("%v\nlog:\n%s", err, log)
				}
			}
			sync := func(c cluster.Name) []runtime.Object {
				rel := tb.helm.last(t, c)
				syncRelease(t, fcs[c].kc, rel)
				return manifestObjects(t, rel)
			}

			// Install in us, share its CA, install in eu.
			must(tb.InstallCilium(ctx, cluster.US, log))
			objs := sync(cluster.US)
			must(tb.ShareCA(ctx, cluster.US, cluster.EU, log))
			must(tb.InstallCilium(ctx, cluster.EU, log))
			objsEU := sync(cluster.EU)
			for c, o := range map[cluster.Name][]runtime.Object{cluster.US: objs, cluster.EU: objsEU} {
				cm := find[*corev1.ConfigMap](t, o, ciliumConfig)
				want := map[string]string{"cluster-name": string(c), "cluster-id": fmt.Sprint(c.ID()), "ipam": "kubernetes", "routing-mode": "tunnel", "tunnel-protocol": "vxlan"}
				for k, v := range want {
					if cm.Data[k] != v {
						t.Errorf("%s: cilium-config %s = %q, want %q", c, k, cm.Data[k], v)
					}
				}
				if cm.Data["max-connected-clusters"] != "255" {
					t.Errorf("%s: max-connected-clusters = %q, want 255", c, cm.Data["max-connected-clusters"])
				}
				if n := find[*appsv1.Deployment](t, o, ciliumOperator).Spec.Replicas; n == nil || *n != 1 {
					t.Errorf("%s: operator replicas %v, want 1", c, n)
				}
			}
			caUS, _ := fcs[cluster.US].kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
			caEU, _ := fcs[cluster.EU].kc.CoreV1().Secrets(namespace).Get(ctx, caSecret, metav1.GetOptions{})
			if string(caUS.Data["ca.crt"]) != string(caEU.Data["ca.crt"]) || caEU.Labels["app.kubernetes.io/managed-by"] != "Helm" || caEU.Annotations["meta.helm.sh/release-name"] != "cilium" {
				t.Fatalf("eu's cilium-ca is not us's with Helm's ownership: labels %v annotations %v", caEU.Labels, caEU.Annotations)
			}
			// Installing again changes nothing.
			must(tb.InstallCilium(ctx, cluster.US, log))
			if r := tb.helm.last(t, cluster.US).Version; r != 1 {
				t.Errorf("second install made revision %d", r)
			}
			for _, c := range cluster.Names() {
				must(tb.WaitCilium(ctx, c, log))
			}

			// Enable Cluster Mesh: values first (the Helm upgrade), then the
			// Job's Secrets, then the waits of EnableClusterMesh.
			for _, c := range cluster.Names() {
				must(tb.enableValues(ctx, c, log))
				o := sync(c)
				svc := find[*corev1.Service](t, o, meshAPIServer)
				if svc.Spec.Type != corev1.ServiceTypeNodePort || svc.Spec.Ports[0].NodePort != cluster.DefaultMeshNodePort {
					t.Errorf("%s: clustermesh-apiserver Service %s nodePort %d, want NodePort %d", c, svc.Spec.Type, svc.Spec.Ports[0].NodePort, cluster.DefaultMeshNodePort)
				}
				rel := tb.helm.last(t, c)
				if name, _ := lookup(rel.Config, "cluster.name"); name != string(c) {
					t.Errorf("%s: upgrade lost cluster.name (reuse-values): %v", c, rel.Config)
				}
				ca := caFromSecret(t, caUS)
				for _, n := range []string{serverCert, remoteCert} {
					if _, err := fcs[c].kc.CoreV1().Secrets(namespace).Create(ctx, ca.certSecret(t, n, n), metav1.CreateOptions{}); err != nil {
						t.Fatal(err)
					}
				}
				must(tb.EnableClusterMesh(ctx, c, log))
			}
			if !log.has("Cluster Mesh is already enabled in us") {
				t.Errorf("EnableClusterMesh upgraded again:\n%s", log)
			}

			// Connect both ways.
			must(tb.Connect(ctx, cluster.US, cluster.EU, log))
			for _, c := range cluster.Names() {
				o := sync(c)
				peer := c.Peer()
				peerIP := fmt.Sprintf("172.18.0.%d", 2+3*peer.Index())
				secret, cfg := meshEndpoint(t, o, peer)
				want := fmt.Sprintf("https://%s.mesh.cilium.io:%d", peer, cluster.DefaultMeshNodePort)
				if !strings.Contains(cfg, want) {
					t.Errorf("%s: %s[%s] = %q, want endpoint %s", c, secret, peer, cfg, want)
				}
				if hosts := hostAliasesFor(o)[peerIP]; len(hosts) != 1 || hosts[0] != string(peer)+".mesh.cilium.io" {
					t.Errorf("%s: hostAliases for %s = %v, want [%s.mesh.cilium.io]", c, peerIP, hosts, peer)
				}
				for _, s := range []string{meshSecret, kvstoreSecret} {
					for _, o := range o {
						if sec, ok := o.(*corev1.Secret); ok && sec.Name == s {
							if _, tls := sec.Data[string(peer)+".etcd-client.crt"]; tls {
								t.Errorf("%s: %s carries a per-cluster TLS block although the CA is shared", c, s)
							}
						}
					}
				}
				// 1.18 and 1.19 take a list, 1.20 a map keyed by name.
				clusters, _ := lookup(tb.helm.last(t, c).Config, "clustermesh.config.clusters")
				asMap, _ := clustersAsMap(version)
				var entry map[string]any
				switch v := clusters.(type) {
				case []any:
					if !asMap && len(v) == 1 {
						entry, _ = v[0].(map[string]any)
					}
				case map[string]any:
					if asMap && len(v) == 1 {
						entry, _ = v[string(peer)].(map[string]any)
					}
				}
				if entry == nil {
					t.Fatalf("%s: clustermesh.config.clusters = %#v, want one entry for %s in the format of chart %s (map: %v)", c, clusters, peer, version, asMap)
				}
				if _, tls := entry["tls"]; tls {
					t.Errorf("%s: the peer entry has a tls block", c)
				}
			}
			revs := [2]int{tb.helm.last(t, cluster.US).Version, tb.helm.last(t, cluster.EU).Version}
			must(tb.Connect(ctx, cluster.EU, cluster.US, log))
			if now := [2]int{tb.helm.last(t, cluster.US).Version, tb.helm.last(t, cluster.EU).Version}; now != revs {
				t.Errorf("connecting again upgraded the releases: revisions %v -> %v", revs, now)
			}

			// The agents report the peer: status and WaitConnected.
			for _, c := range cluster.Names() {
				tb.markCreated(t, c)
				for _, pod := range agentPods(t, fcs[c], c) {
					tb.exec.set(fmt.Sprintf("%s/%s/%s", c, pod, ciliumAgentCtr), agentJSON(c.Peer(), true, ""))
				}
				must(tb.WaitConnected(ctx, c, log))
				st, err := tb.Status(ctx, c)
				must(err)
				p, ok := st.Mesh.Peer(c.Peer())
				if !ok || p.String() != fmt.Sprintf("%s: 3/3 configured, 3/3 connected", c.Peer()) {
					t.Errorf("%s: peer %+v", c, p)
				}
				if !st.Cilium.Ready() || st.Cilium.Version != version || st.Cilium.ClusterID != c.ID() || !st.Mesh.Ready() || st.Mesh.NodePort != cluster.DefaultMeshNodePort {
					t.Errorf("%s: status %+v", c, st)
				}
			}
			if st0, _ := tb.Status(ctx, cluster.US); st0.Cilium.CA == "" {
				t.Error("status has no CA id")
			} else if st1, _ := tb.Status(ctx, cluster.EU); st1.Cilium.CA != st0.Cilium.CA {
				t.Errorf("CA ids differ: %s vs %s", st0.Cilium.CA, st1.Cilium.CA)
			}
		})
	}
}

// TestConnectMergesExistingClusters checks the Helm side of connect on its
// own: an entry for another cluster is kept, the peer's is added once and
// replaced (not duplicated) when its address changes, and an unchanged
// entry makes no new revision.
func TestConnectMergesExistingClusters(t *testing.T) {
	ctx := context.Background()
	tb := newTestBackend(t, chartPath(t, chartVersions[0]), newFakeCluster(), newFakeCluster())
	log := &lines{}
	lc, err := tb.loadChart(ctx, log)
	if err != nil {
		t.Fatal(err)
	}
	vals := InstallValues(cluster.US)
	for k, v := range EnableValues() {
		vals[k] = v
	}
	vals["clustermesh"].(map[string]any)["config"] = map[string]any{"enabled": true, "clusters": []any{
		map[string]any{"name": "asia", "ips": []any{"10.9.9.9"}, "port": 32381},
	}}
	if err := tb.install(ctx, cluster.US, lc, vals, log); err != nil {
		t.Fatal(err)
	}
	peer := PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32379}
	check := func(wantRev int, wantIP string) {
		t.Helper()
		rel := tb.helm.last(t, cluster.US)
		if rel.Version != wantRev || rel.Info.Status != release.StatusDeployed {
			t.Fatalf("revision %d %s, want %d deployed", rel.Version, rel.Info.Status, wantRev)
		}
		clusters, _ := lookup(rel.Config, "clustermesh.config.clusters")
		entries, err := clusterEntries(clusters)
		if err != nil || len(entries) != 2 || entries["asia"] == nil || fmt.Sprint(entries["eu"]["ips"]) != "["+wantIP+"]" {
			t.Fatalf("clusters %#v (%v)", clusters, err)
		}
		if name, _ := lookup(rel.Config, "cluster.name"); name != "us" {
			t.Fatalf("reuse-values lost cluster.name: %v", rel.Config)
		}
		objs := manifestObjects(t, rel)
		_, cfg := meshEndpoint(t, objs, "asia")
		if !strings.Contains(cfg, "https://asia.mesh.cilium.io:32381") {
			t.Fatalf("asia endpoint: %s", cfg)
		}
		if hosts := hostAliasesFor(objs)[wantIP]; len(hosts) != 1 {
			t.Fatalf("hostAliases %v", hostAliasesFor(objs))
		}
	}
	if err := tb.configurePeer(ctx, cluster.US, peer, lc, log); err != nil {
		t.Fatal(err)
	}
	check(2, "172.18.0.5")
	if err := tb.configurePeer(ctx, cluster.US, peer, lc, log); err != nil {
		t.Fatal(err)
	}
	check(2, "172.18.0.5")
	peer.IPs = []string{"172.18.0.6"}
	if err := tb.configurePeer(ctx, cluster.US, peer, lc, log); err != nil {
		t.Fatal(err)
	}
	check(3, "172.18.0.6")
}

// TestChartVerification checks that a chart is checked for its name and
// version when loaded, and that a package of a version the lab knows is
// used only when it is the published package (SHA256).
func TestChartVerification(t *testing.T) {
	path := chartPath(t, "1.18.11")
	if _, _, err := loadChecked(path, "1.19.5"); err == nil || !strings.Contains(err.Error(), "not 1.19.5") {
		t.Errorf("wrong version accepted: %v", err)
	}
	for _, v := range publishedVersions {
		lc, info, err := loadChecked(chartPath(t, v), "")
		if err != nil || lc.Version() != v || !info.Verified || !strings.Contains(info.Note, "verified: its SHA256 is the published cilium-"+v+".tgz's") {
			t.Fatalf("published %s: %v %+v", v, err, info)
		}
	}
	tb := newTestBackend(t, path, newFakeCluster(), newFakeCluster(), func(o *Options) { o.CiliumVersion = "1.19.5" })
	if _, err := tb.loadChart(context.Background(), &lines{}); err == nil || cluster.HintOf(err) == "" {
		t.Errorf("a 1.18.11 chart was accepted for --cilium-version 1.19.5: %v", err)
	}

	// The same chart, packaged again: same version, other bytes.
	repacked := repackage(t, chartPath(t, "1.19.5"), "")
	_, info, err := loadChecked(repacked, "")
	if !errors.Is(err, ErrChartMismatch) || !strings.Contains(err.Error(), publishedCharts["1.19.5"]) || info.Version != "1.19.5" {
		t.Fatalf("repackaged 1.19.5: %v %+v", err, info)
	}
	if _, err := CheckChart(repacked, ""); !errors.Is(err, ErrChartMismatch) {
		t.Errorf("CheckChart accepted it: %v", err)
	}
	tb = newTestBackend(t, repacked, newFakeCluster(), newFakeCluster())
	if _, err := tb.loadChart(context.Background(), &lines{}); !errors.Is(err, ErrChartMismatch) || !strings.Contains(err.Error(), "refusing the Cilium chart") || !strings.Contains(cluster.HintOf(err), "helm pull cilium/cilium --version 1.19.5") {
		t.Errorf("--cilium-chart with a repackaged chart: %v (hint %q)", err, cluster.HintOf(err))
	}
	// A version the lab knows no sum for, and a directory, are used and
	// said to be unverified.
	other := repackage(t, chartPath(t, "1.19.5"), "1.19.99")
	if _, info, err := loadChecked(other, ""); err != nil || info.Verified || !strings.Contains(info.Note, "no published SHA256 for cilium 1.19.99") {
		t.Errorf("unknown version: %v %+v", err, info)
	}
	dir := t.TempDir()
	ch, err := loader.Load(chartPath(t, "1.20.0"))
	if err != nil {
		t.Fatal(err)
	}
	if err := chartutil.SaveDir(ch, dir); err != nil {
		t.Fatal(err)
	}
	log := &lines{}
	tb = newTestBackend(t, filepath.Join(dir, "cilium"), newFakeCluster(), newFakeCluster())
	if lc, err := tb.loadChart(context.Background(), log); err != nil || lc.Version() != "1.20.0" || !log.has("unverified: a chart directory cannot be hashed") {
		t.Errorf("directory: %v\n%s", err, log)
	}

	// The cache: a chart already in the cache directory is used without a
	// pull, and only when it is the published package.
	cache := t.TempDir()
	tb = newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.ChartCacheDir, o.CiliumVersion, o.ChartRepo = cache, "1.18.11", "http://127.0.0.1:1/unreachable"
	})
	if _, err := tb.loadChart(context.Background(), &lines{}); err == nil {
		t.Fatal("pulled from an unreachable repository")
	}
	copyFile(t, path, cache+"/cilium-1.18.11.tgz")
	log = &lines{}
	lc, err := tb.loadChart(context.Background(), log)
	if err != nil || lc.Version() != "1.18.11" || !log.has("cached Cilium chart") || !log.has("verified") {
		t.Fatalf("cached chart: %v\n%s", err, log)
	}
	cache = t.TempDir()
	copyFile(t, repacked, cache+"/cilium-1.19.5.tgz")
	tb = newTestBackend(t, "", newFakeCluster(), newFakeCluster(), func(o *Options) {
		o.ChartCacheDir, o.ChartRepo = cache, "http://127.0.0.1:1/unreachable"
	})
	log = &lines{}
	if _, err := tb.loadChart(context.Background(), log); err == nil || !log.has("Not trusting the cached chart") {
		t.Errorf("altered cache entry: %v\n%s", err, log)
	}
	if _, err := os.Stat(cache + "/cilium-1.19.5.tgz"); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the altered cache entry is still there: %v", err)
	}
}

// publishedVersions are the published packages beside the repository, all
// of which the lab knows the SHA256 of.
var publishedVersions = []string{"1.18.11", "1.19.5", "1.20.0"}

// TestPublishedSums checks the sums the lab carries against
// shared/charts/SHA256SUMS.
func TestPublishedSums(t *testing.T) {
	b, err := os.ReadFile(filepath.Join(chartsDir(t), "SHA256SUMS"))
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
		f := strings.Fields(line)
		v := strings.TrimSuffix(strings.TrimPrefix(f[1], "cilium-"), ".tgz")
		if publishedCharts[v] != f[0] {
			t.Errorf("%s: the lab has %q, SHA256SUMS %q", v, publishedCharts[v], f[0])
		}
		n++
	}
	if n != len(publishedCharts) {
		t.Errorf("%d sums in SHA256SUMS, %d in the lab", n, len(publishedCharts))
	}
}

// repackage loads a chart package and saves it again (as `helm package`
// would), with another version when one is given: a valid chart that is
// not the published package.
func repackage(t *testing.T, src, version string) string {
	t.Helper()
	ch, err := loader.Load(src)
	if err != nil {
		t.Fatal(err)
	}
	if version != "" {
		ch.Metadata.Version = version
	}
	out, err := chartutil.Save(ch, t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestPullCachesTheChart pulls the chart through the Helm SDK from a chart
// repository served on the loopback address (the published package and an
// index made by Helm), then checks that a second backend uses the cache
// with the repository gone.
func TestPullCachesTheChart(t *testing.T) {
	src := chartPath(t, "1.18.11")
	repoDir := t.TempDir()
	copyFile(t, src, filepath.Join(repoDir, "cilium-1.18.11.tgz"))
	srv := httptest.NewServer(http.FileServer(http.Dir(repoDir)))
	defer srv.Close()
	idx, err := repo.IndexDirectory(repoDir, srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	if err := idx.WriteFile(filepath.Join(repoDir, "index.yaml"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HELM_CACHE_HOME", t.TempDir())
	t.Setenv("HELM_CONFIG_HOME", t.TempDir())
	cache := filepath.Join(t.TempDir(), "charts")
	opts := func(o *Options) { o.ChartCacheDir, o.CiliumVersion, o.ChartRepo = cache, "1.18.11", srv.URL }
	log := &lines{}
	lc, err := newTestBackend(t, "", nil, nil, opts).loadChart(context.Background(), log)
	if err != nil || lc.Version() != "1.18.11" || !log.has("Pulling the Cilium chart 1.18.11 from "+srv.URL) {
		t.Fatalf("pull: %v\n%s", err, log)
	}
	if entries, _ := os.ReadDir(cache); len(entries) != 1 || entries[0].Name() != "cilium-1.18.11.tgz" {
		t.Errorf("cache holds %v", entries)
	}
	// A version the repository does not have fails with advice.
	_, err = newTestBackend(t, "", nil, nil, func(o *Options) { opts(o); o.CiliumVersion = "1.17.0" }).loadChart(context.Background(), &lines{})
	if !errors.Is(err, ErrChartUnavailable) || !strings.Contains(err.Error(), "1.17.0") || !strings.Contains(cluster.HintOf(err), "helm pull cilium/cilium --version 1.17.0") {
		t.Errorf("missing version: %v", err)
	}
	srv.Close()
	log = &lines{}
	if lc, err = newTestBackend(t, "", nil, nil, opts).loadChart(context.Background(), log); err != nil || lc.Version() != "1.18.11" || log.has("Pulling") {
		t.Fatalf("second run: %v\n%s", err, log)
	}
}

// TestLocalChartVersion checks that the preflight compares the node image
// with the tested range of the chart it will install: with --cilium-chart
// alone, the chart's own version.
func TestLocalChartVersion(t *testing.T) {
	tb := newTestBackend(t, chartPath(t, "1.20.0"), nil, nil)
	if v := tb.localChartVersion(); v != "1.20.0" {
		t.Errorf("local chart version %q, want 1.20.0", v)
	}
	tb = newTestBackend(t, "", nil, nil)
	if v := tb.localChartVersion(); v != DefaultCiliumVersion {
		t.Errorf("default version %q", v)
	}
}

// TestHubbleOnPublishedCharts installs each published chart that the lab
// pins or supports next (1.19.5, 1.20.0), applies the hubble step's values
// and checks what the chart renders: hubble-relay and hubble-ui Services of
// type NodePort on the seed's 31234 and 31235, their Deployments, and the
// status that reads them back. With a values file that turns the UI off
// (as hack/e2e's turns off both), the UI is neither rendered nor waited
// for, the step's log says so, and Hubble counts as ready without it.
func TestHubbleOnPublishedCharts(t *testing.T) {
	for _, version := range []string{"1.19.5", "1.20.0"} {
		for _, uiOff := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/ui-off=%v", version, uiOff), func(t *testing.T) {
				t.Parallel()
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute) // a hang guard
				defer cancel()
				fc := newFakeCluster(append(kindNodes(cluster.US), kubeSystem())...)
				fc.runController(t)
				var tweak []func(*Options)
				if uiOff {
					tweak = append(tweak, func(o *Options) {
						o.ValuesFile = "/lab/values.yaml"
						o.Values = map[string]any{"hubble": map[string]any{"ui": map[string]any{"enabled": false}, "relay": map[string]any{"service": map[string]any{"type": "ClusterIP"}}}}
					})
				}
				tb := newTestBackend(t, chartPath(t, version), fc, nil, tweak...)
				log := &lines{}
				must := func(err error) {
					t.Helper()
					if err != nil {
						t.Fatalf("%v\nlog:\n%s", err, log)
					}
				}
				must(tb.InstallCilium(ctx, cluster.US, log))
				syncRelease(t, fc.kc, tb.helm.last(t, cluster.US))
				tb.markCreated(t, cluster.US)
				st, err := tb.Status(ctx, cluster.US)
				must(err)
				if st.Hubble.Applied || st.Hubble.Relay.Present || st.Hubble.Ready() {
					t.Errorf("before the step: hubble %+v", st.Hubble)
				}

				_, err = tb.hubbleValues(ctx, cluster.US, log)
				must(err)
				rel := tb.helm.last(t, cluster.US)
				syncRelease(t, fc.kc, rel)
				objs := manifestObjects(t, rel)
				if name, _ := lookup(rel.Config, "cluster.name"); name != "us" {
					t.Errorf("the upgrade lost cluster.name (reuse-values): %v", rel.Config)
				}
				relay := find[*corev1.Service](t, objs, hubbleRelay)
				if relay.Spec.Type != corev1.ServiceTypeNodePort || relay.Spec.Ports[0].NodePort != cluster.HubbleRelayNodePort || relay.Spec.Ports[0].Port != 80 {
					t.Errorf("hubble-relay Service %s port %d nodePort %d, want NodePort 80 -> %d (the values file's ClusterIP loses to the step's pinned type)", relay.Spec.Type, relay.Spec.Ports[0].Port, relay.Spec.Ports[0].NodePort, cluster.HubbleRelayNodePort)
				}
				find[*appsv1.Deployment](t, objs, hubbleRelay)
				if uiOff {
					for _, o := range objs {
						if m, ok := o.(metav1.Object); ok && m.GetName() == hubbleUI {
							t.Errorf("hubble-ui rendered (%T) although the values file turns it off", o)
						}
					}
				} else {
					ui := find[*corev1.Service](t, objs, hubbleUI)
					if ui.Spec.Type != corev1.ServiceTypeNodePort || ui.Spec.Ports[0].NodePort != cluster.HubbleUINodePort {
						t.Errorf("hubble-ui Service %s nodePort %d, want NodePort %d", ui.Spec.Type, ui.Spec.Ports[0].NodePort, cluster.HubbleUINodePort)
					}
					find[*appsv1.Deployment](t, objs, hubbleUI)
				}

				must(tb.EnableHubble(ctx, cluster.US, log))
				if !log.has("Hubble's values are already in the release cilium in us") {
					t.Errorf("EnableHubble upgraded again:\n%s", log)
				}
				if got := log.has("hubble-ui stays off in us: the release's values (/lab/values.yaml) set hubble.ui.enabled=false"); got != uiOff {
					t.Errorf("log says the UI stays off: %v, want %v\n%s", got, uiOff, log)
				}
				st, err = tb.Status(ctx, cluster.US)
				must(err)
				h := st.Hubble
				if !h.Applied || !h.RelayWanted || h.UIWanted == uiOff || !h.RelayReady() || h.UIReady() == uiOff || !h.Ready() {
					t.Errorf("after the step: hubble %+v, ready %v", h, h.Ready())
				}
				want := "hubble relay ready :31234 · ui ready :31235"
				if uiOff {
					want = "hubble relay ready :31234 · ui off"
				}
				if h.Line() != want {
					t.Errorf("status line %q, want %q", h.Line(), want)
				}
			})
		}
	}
}
