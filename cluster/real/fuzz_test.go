package real

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// FuzzProbeStream feeds the probe's line counter any output, cut at any
// point: it never panics, counts at most the requests sent, reports each
// request once and in order, and counts the same however the stream is cut.
// Corpus: testdata/fuzz/FuzzProbeStream (recorded loop outputs, findings).
func FuzzProbeStream(f *testing.F) {
	f.Add([]byte("Hello world from US!\n\nHello world from Europe!\n\n"+probeFailed+"\n"), 10, uint8(7))
	f.Fuzz(func(t *testing.T, out []byte, requests int, cut uint8) {
		n := 1 + abs(requests)%200
		count := func(chunk int) (cluster.ProbeResult, []cluster.ProbeResult) {
			var seen []cluster.ProbeResult
			p := &probeCounter{res: cluster.ProbeResult{From: cluster.US, Requests: n}, progress: func(r cluster.ProbeResult) { seen = append(seen, r) }}
			for rest := out; len(rest) > 0; {
				k := min(chunk, len(rest))
				if w, err := p.Write(rest[:k]); w != k || err != nil {
					t.Fatalf("Write(%d bytes) = %d, %v", k, w, err)
				}
				rest = rest[k:]
			}
			return p.result(), seen
		}
		whole, seen := count(len(out) + 1)
		if cut > 0 {
			if pieces, _ := count(int(cut)); !reflect.DeepEqual(pieces, whole) {
				t.Fatalf("cut every %d bytes: %+v, whole: %+v", cut, pieces, whole)
			}
		}
		if whole.Done() > n || whole.Answers.US < 0 || whole.Answers.EU < 0 || whole.Errors < 0 {
			t.Fatalf("%d requests counted as %+v", n, whole)
		}
		for i, r := range seen {
			if r.Done() != i+1 {
				t.Fatalf("progress %d reports %d requests done", i+1, r.Done())
			}
		}
		if len(seen) != whole.Done() {
			t.Fatalf("%d progress reports for %d requests", len(seen), whole.Done())
		}
	})
}

func abs(n int) int {
	if n < 0 {
		return -(n + 1)
	}
	return n
}

// FuzzAgentStatus feeds `cilium status -o json` decoding any output, from
// up to three agents (outputs separated by NUL): it never panics, and the
// mesh peers it summarises never count more agents configured than there
// are, nor more connected (or reading through KVStoreMesh) than configured.
// Corpus: testdata/fuzz/FuzzAgentStatus (agent outputs, findings).
func FuzzAgentStatus(f *testing.F) {
	f.Add([]byte(`{"cluster-mesh":{"clusters":[{"name":"eu","connected":true,"ready":true,"status":"3 nodes","num-nodes":3}]}}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var reports []agentReport
		for i, out := range bytes.SplitN(data, []byte{0}, 3) {
			st, err := parseAgentStatus(out)
			reports = append(reports, agentReport{pod: "cilium-" + string(rune('a'+i)), status: st, err: err})
		}
		peers := summarisePeers(len(reports), reports, []string{"eu"})
		names := map[cluster.Name]bool{}
		for _, p := range peers {
			if p.Configured < 0 || p.Configured > p.Agents || p.Connected < 0 || p.Connected > p.Configured || p.Agents != len(reports) ||
				p.ViaKVStoreMesh < 0 || p.ViaKVStoreMesh > p.Configured {
				t.Fatalf("%d agents summarised as %s", len(reports), p)
			}
			if p.Name == "" || names[p.Name] {
				t.Fatalf("peer %q listed twice or nameless in %+v", p.Name, peers)
			}
			names[p.Name] = true
		}
		if !names["eu"] {
			t.Fatalf("the configured peer is missing from %+v", peers)
		}
	})
}

// FuzzKVStoreMeshStatus feeds `kvstoremesh-dbg status -o json` decoding
// any output: it never panics, and the links it makes list each remote
// cluster once, by name, the configured one always; an output that cannot
// be read makes every link unknown, none up.
// Corpus: testdata/fuzz/FuzzKVStoreMeshStatus (recorded outputs, findings).
func FuzzKVStoreMeshStatus(f *testing.F) {
	f.Add([]byte(`[{"name":"eu","connected":true,"ready":true,"status":"ok","synced":{"nodes":true,"services":true,"endpoints":true,"identities":true}}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		report, err := parseKVStoreMeshStatus(data)
		if err != nil {
			report = nil
		}
		names := map[cluster.Name]bool{}
		for _, l := range links([]string{"eu"}, report, err) {
			if l.Name == "" || names[l.Name] {
				t.Fatalf("link %q listed twice or nameless", l.Name)
			}
			names[l.Name] = true
			if err != nil && (!l.Unknown || l.OK()) {
				t.Fatalf("an unreadable report gives a known link %+v", l)
			}
		}
		if !names["eu"] {
			t.Fatal("the configured peer has no link")
		}
	})
}

// FuzzKubeconfig feeds the lab a kubeconfig the learner brings, with any
// content and context: it never panics or hangs; a kubeconfig that cannot
// be used fails naming the cluster, as a cluster the learner brought (the
// command line then names its flags); one it accepts
// becomes the lab's own kubeconfig of US, self-contained under context
// kind-us, which loads again. Corpus: testdata/fuzz/FuzzKubeconfig.
func FuzzKubeconfig(f *testing.F) {
	f.Add([]byte(minimalKubeconfig), "")
	f.Fuzz(func(t *testing.T, data []byte, context string) {
		// Nothing here talks to a cluster: an input that takes long
		// hangs, and crashing the worker makes the fuzzer keep it.
		watchdog := time.AfterFunc(20*time.Second, func() { panic("loading this kubeconfig hangs") })
		defer watchdog.Stop()
		dir := t.TempDir()
		own := filepath.Join(dir, "own.yaml")
		if err := os.WriteFile(own, data, 0o600); err != nil {
			t.Fatal(err)
		}
		lab := filepath.Join(dir, "lab")
		if err := os.Mkdir(lab, 0o700); err != nil {
			t.Fatal(err)
		}
		b, err := New(Options{Dir: lab, External: map[cluster.Name]Kubeconfig{cluster.US: {Path: own, Context: context}}})
		if err != nil {
			t.Fatal(err)
		}
		check := b.externalCheck(cluster.US, b.opts.External[cluster.US])
		_, cerr := b.clientConfig(cluster.US)
		if cerr != nil {
			if !strings.Contains(cerr.Error(), "kubeconfig of us") || !errors.Is(cerr, ErrExternalCluster) || !strings.Contains(cluster.HintOf(cerr), "given for us") {
				t.Fatalf("an unusable kubeconfig is reported as %v (hint %q)", cerr, cluster.HintOf(cerr))
			}
			if check.Status != cluster.Fail {
				t.Fatalf("preflight passes a kubeconfig that does not load: %+v", check)
			}
			return
		}
		if err := b.writeKubeconfigs(cluster.US, nil); err != nil {
			return
		}
		cfg, err := clientcmd.LoadFromFile(b.kubeconfigPath(cluster.US))
		if err != nil {
			t.Fatalf("the lab wrote a kubeconfig it cannot read: %v", err)
		}
		ctx, ok := cfg.Contexts["kind-us"]
		if cfg.CurrentContext != "kind-us" || !ok || ctx.Cluster != "kind-us" || cfg.Clusters["kind-us"] == nil || len(cfg.Contexts) != 1 {
			t.Fatalf("the lab's kubeconfig of us: %+v", cfg)
		}
		for _, c := range cfg.Clusters {
			if c.CertificateAuthority != "" {
				t.Fatalf("the lab's kubeconfig still names a file: %+v", c)
			}
		}
		if _, err := clientcmd.LoadFromFile(filepath.Join(lab, labfiles.MergedKubeconfig)); err != nil && !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("merged kubeconfig: %v", err)
		}
	})
}

// minimalKubeconfig is a learner's kubeconfig (testdata/kubeconfig-minimal.yaml,
// which the command line's tests use too): one cluster, one user, one
// context ("mine"), nothing that needs a file.
var minimalKubeconfig = func() string {
	b, err := os.ReadFile(filepath.Join("testdata", "kubeconfig-minimal.yaml"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()
