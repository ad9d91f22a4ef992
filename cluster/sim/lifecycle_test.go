package sim

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// memStore is a Store in memory that counts saves.
type memStore struct {
	mu      sync.Mutex
	data    []byte
	saves   int
	loadErr error
	saveErr error
}

func (m *memStore) Load() ([]byte, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.loadErr != nil {
		return nil, m.loadErr
	}
	if m.data == nil {
		return nil, os.ErrNotExist
	}
	return append([]byte(nil), m.data...), nil
}

func (m *memStore) Save(b []byte) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.saveErr != nil {
		return m.saveErr
	}
	m.data = append([]byte(nil), b...)
	m.saves++
	return nil
}

// recClock never waits; it adds up the time the latency model asked for.
type recClock struct {
	mu    sync.Mutex
	total time.Duration
	// failOn, when non-zero, makes the first sleep of that length fail as
	// if the process had been stopped there.
	failOn time.Duration
}

var errStopped = errors.New("stopped by the test")

func (c *recClock) Sleep(ctx context.Context, d time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failOn != 0 && d == c.failOn {
		c.failOn = 0
		return errStopped
	}
	c.total += d
	return ctx.Err()
}

func (c *recClock) take() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.total
	c.total = 0
	return t
}

// logBuf is a cluster.Logger that keeps the lines.
type logBuf struct {
	mu    sync.Mutex
	lines []string
}

func (l *logBuf) Logf(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = append(l.lines, fmt.Sprintf(format, args...))
}

func (l *logBuf) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Join(l.lines, "\n")
}

func (l *logBuf) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lines = nil
}

func newTestBackend(t *testing.T, opts Options) *Backend {
	t.Helper()
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// setup drives the backend to a connected mesh with the demo deployed; share
// decides whether EU gets US's CA before its install.
func setup(t *testing.T, b *Backend, share bool) {
	t.Helper()
	ctx, log := context.Background(), cluster.Discard
	for _, c := range cluster.Names() {
		must(t, b.CreateCluster(ctx, c, log))
	}
	must(t, b.InstallCilium(ctx, cluster.US, log))
	if share {
		must(t, b.ShareCA(ctx, cluster.US, cluster.EU, log))
	}
	must(t, b.InstallCilium(ctx, cluster.EU, log))
	for _, c := range cluster.Names() {
		must(t, b.WaitCilium(ctx, c, log))
		must(t, b.EnableClusterMesh(ctx, c, log))
	}
	must(t, b.Connect(ctx, cluster.US, cluster.EU, log))
	for _, c := range cluster.Names() {
		must(t, b.WaitConnected(ctx, c, log))
		must(t, b.DeployDemo(ctx, c, log))
	}
}

func statuses(t *testing.T, b *Backend) [2]cluster.Status {
	t.Helper()
	var out [2]cluster.Status
	for _, c := range cluster.Names() {
		st, err := b.Status(context.Background(), c)
		must(t, err)
		out[c.Index()] = st
	}
	return out
}

func stateJSON(t *testing.T, b *Backend) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	out, err := json.Marshal(b.st)
	must(t, err)
	return string(out)
}

// Every operation called again on a finished state says it has nothing
// to do and does not wait (that it changes nothing is the conformance
// suite's, TestConformance).
func TestOperationsAreIdempotent(t *testing.T) {
	clock := &recClock{}
	b := newTestBackend(t, Options{Seed: 3, Clock: clock})
	setup(t, b, true)
	ctx := context.Background()
	clock.take()
	log := &logBuf{}
	ops := []struct {
		name string
		run  func() error
		says string
	}{
		{"CreateCluster us", func() error { return b.CreateCluster(ctx, cluster.US, log) }, "already exists"},
		{"CreateCluster eu", func() error { return b.CreateCluster(ctx, cluster.EU, log) }, "already exists"},
		{"InstallCilium us", func() error { return b.InstallCilium(ctx, cluster.US, log) }, "already installed"},
		{"ShareCA us->eu", func() error { return b.ShareCA(ctx, cluster.US, cluster.EU, log) }, "already the one from us"},
		{"InstallCilium eu", func() error { return b.InstallCilium(ctx, cluster.EU, log) }, "already installed"},
		{"WaitCilium eu", func() error { return b.WaitCilium(ctx, cluster.EU, log) }, "Cilium is ready in eu"},
		{"EnableClusterMesh us", func() error { return b.EnableClusterMesh(ctx, cluster.US, log) }, "already enabled"},
		{"WaitConnected us", func() error { return b.WaitConnected(ctx, cluster.US, log) }, "3/3 connected"},
	}
	for _, op := range ops {
		log.reset()
		if err := op.run(); err != nil {
			t.Fatalf("%s again: %v", op.name, err)
		}
		if !strings.Contains(log.String(), op.says) {
			t.Errorf("%s again logged %q, want it to say %q", op.name, log, op.says)
		}
		if d := clock.take(); d != 0 {
			t.Errorf("%s again waited %s, want no wait", op.name, d)
		}
	}

	// Connect again (it re-extracts and re-applies the same entries): the
	// unchanged entries keep the agents connected, so waiting for them is
	// immediate.
	must(t, b.Connect(ctx, cluster.EU, cluster.US, cluster.Discard))
	clock.take()
	for _, c := range cluster.Names() {
		must(t, b.WaitConnected(ctx, c, cluster.Discard))
	}
	if d := clock.take(); d != 0 {
		t.Errorf("agents reconnected after a second connect (waited %s); the unchanged entries should keep them connected", d)
	}

	// Deleting twice: the second says there is nothing to delete.
	must(t, b.DeleteCluster(ctx, cluster.EU, cluster.Discard))
	log.reset()
	must(t, b.DeleteCluster(ctx, cluster.EU, log))
	if !strings.Contains(log.String(), "nothing to delete") {
		t.Errorf("second delete logged %q", log)
	}
}

// Re-applying the demo resets hello-world's replicas to the manifest's (the
// applier owns the field) and keeps annotations set by another manager.
func TestDeployDemoReapply(t *testing.T) {
	b := newTestBackend(t, Options{Seed: 1})
	setup(t, b, true)
	ctx := context.Background()
	must(t, b.ConfigureService(ctx, cluster.US, cluster.ServiceChange{Global: cluster.Bool(true), Affinity: cluster.AffinityPtr(cluster.AffinityLocal)}, cluster.Discard))
	must(t, b.Scale(ctx, cluster.US, 3, cluster.Discard))
	if hw := statuses(t, b)[0].Demo.HelloWorld; hw.Desired != 3 || hw.Ready != 3 {
		t.Fatalf("after scale to 3: %+v", hw)
	}
	log := &logBuf{}
	must(t, b.DeployDemo(ctx, cluster.US, log))
	st := statuses(t, b)[0]
	if hw := st.Demo.HelloWorld; hw.Desired != 1 || hw.Ready != 1 {
		t.Errorf("after re-apply: hello-world %+v, want 1/1", hw)
	}
	if s := st.Demo.Service.Settings; !s.Global || s.Affinity != cluster.AffinityLocal {
		t.Errorf("after re-apply: service settings %+v, want the annotations kept", s)
	}
	if !strings.Contains(log.String(), "deployment.apps/hello-world configured") || !strings.Contains(log.String(), "service/hello-world unchanged") {
		t.Errorf("re-apply logged:\n%s", log)
	}
}

func TestValidatePair(t *testing.T) {
	ok := func(name string, id int) meshInfo {
		return meshInfo{name: name, id: id, max: 255, port: 32379, ip: "172.18.0.2", ca: "ca"}
	}
	with := func(i meshInfo, f func(*meshInfo)) meshInfo { f(&i); return i }
	cases := []struct {
		name    string
		x, y    meshInfo
		wantErr string
		wantTLS bool
	}{
		{"valid, one CA", ok("us", 1), ok("eu", 2), "", false},
		{"valid, CAs differ", ok("us", 1), with(ok("eu", 2), func(i *meshInfo) { i.ca = "other" }), "", true},
		{"same name", ok("us", 1), ok("us", 2), "names must differ", false},
		{"same id", ok("us", 1), ok("eu", 1), "ids must differ", false},
		{"name not set", ok("", 1), ok("eu", 2), "not set", false},
		{"name default", ok("default", 1), ok("eu", 2), "not set", false},
		{"id 0", ok("us", 0), ok("eu", 2), "outside 1..255", false},
		{"id above max", ok("us", 1), ok("eu", 256), "outside 1..255", false},
		{"max-connected-clusters differs", ok("us", 1), with(ok("eu", 2), func(i *meshInfo) { i.max = 511 }), "max-connected-clusters differs", false},
	}
	for _, tc := range cases {
		tls, err := validatePair(tc.x, tc.y)
		switch {
		case tc.wantErr == "" && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || cluster.HintOf(err) == ""):
			t.Errorf("%s: err %v (hint %q), want one containing %q with a hint", tc.name, err, cluster.HintOf(err), tc.wantErr)
		case tc.wantErr == "" && tls != tc.wantTLS:
			t.Errorf("%s: tls %t, want %t", tc.name, tls, tc.wantTLS)
		}
	}
}

// upToMesh drives both clusters to an enabled mesh, not yet connected.
func upToMesh(t *testing.T, b *Backend, share bool) {
	t.Helper()
	ctx, log := context.Background(), cluster.Discard
	for _, c := range cluster.Names() {
		must(t, b.CreateCluster(ctx, c, log))
	}
	must(t, b.InstallCilium(ctx, cluster.US, log))
	if share {
		must(t, b.ShareCA(ctx, cluster.US, cluster.EU, log))
	}
	must(t, b.InstallCilium(ctx, cluster.EU, log))
	for _, c := range cluster.Names() {
		must(t, b.WaitCilium(ctx, c, log))
		must(t, b.EnableClusterMesh(ctx, c, log))
	}
}

// Connect with one CA writes plain entries; with two it warns as the
// seed's cilium-cli does and gives each entry the peer's CA (a tls block),
// where the real backend refuses (see cluster/real's connect). What connect
// refuses on both backends is the conformance suite's.
func TestConnectWithOneCAOrTwo(t *testing.T) {
	ctx := context.Background()
	t.Run("CA mismatch connects with TLS entries and warns", func(t *testing.T) {
		b := newTestBackend(t, Options{Seed: 1})
		upToMesh(t, b, false)
		log := &logBuf{}
		must(t, b.Connect(ctx, cluster.US, cluster.EU, log))
		if !strings.Contains(log.String(), "Cilium CA certificates do not match between clusters. Multicluster features will be limited!") {
			t.Errorf("connect with different CAs logged:\n%s", log)
		}
		for _, c := range cluster.Names() {
			m := b.st.Clusters[c].Cilium.Mesh
			if len(m.Clusters) != 1 || !m.Clusters[0].TLS || m.Clusters[0].Name != string(c.Peer()) {
				t.Errorf("%s's clustermesh.config.clusters = %+v, want one entry for %s with a tls block", c, m.Clusters, c.Peer())
			}
			must(t, b.WaitConnected(ctx, c, cluster.Discard))
		}
		// Without the tls block kvstoremesh could not verify the peer; the
		// agents keep what it had cached.
		b.st.Clusters[cluster.US].Cilium.Mesh.Clusters[0].TLS = false
		st := statuses(t, b)[0]
		if l, _ := st.Mesh.Link(cluster.EU); l.Connected || !strings.Contains(l.Status, "unknown authority") {
			t.Errorf("us → eu without tls block and different CAs: link %+v, want down, unknown authority", l)
		}
		if p, _ := st.Mesh.Peer(cluster.EU); !p.OK() {
			t.Errorf("agents of us after their kvstoremesh lost eu: %+v, want still connected to their apiserver", p)
		}
	})
	t.Run("one CA connects without TLS entries", func(t *testing.T) {
		b := newTestBackend(t, Options{Seed: 1})
		upToMesh(t, b, true)
		log := &logBuf{}
		must(t, b.Connect(ctx, cluster.US, cluster.EU, log))
		if strings.Contains(log.String(), "do not match") {
			t.Errorf("connect with one CA warned:\n%s", log)
		}
		for _, c := range cluster.Names() {
			m := b.st.Clusters[c].Cilium.Mesh
			if len(m.Clusters) != 1 || m.Clusters[0].TLS || m.Clusters[0].Port != cluster.DefaultMeshNodePort {
				t.Errorf("%s's entries = %+v, want one entry without tls, port %d", c, m.Clusters, cluster.DefaultMeshNodePort)
			}
		}
	})
}

// A peer that goes away is reported as a broken peer link. Cilium keeps
// what kvstoremesh cached when a connection is lost (clustermesh-cache-ttl
// 0, pkg/clustermesh), so US's agents still know EU's backend, and the
// requests sent to it fail.
func TestDeletedPeer(t *testing.T) {
	b := newTestBackend(t, Options{Seed: 1})
	setup(t, b, true)
	ctx := context.Background()
	for _, c := range cluster.Names() {
		must(t, b.ConfigureService(ctx, c, cluster.ServiceChange{Global: cluster.Bool(true)}, cluster.Discard))
	}
	must(t, b.DeleteCluster(ctx, cluster.EU, cluster.Discard))
	st := statuses(t, b)[0]
	if l, ok := st.Mesh.Link(cluster.EU); !ok || l.Connected || !strings.Contains(l.Status, "does not exist") {
		t.Errorf("us → deleted eu: link %+v, want down, saying eu does not exist", l)
	}
	if p, _ := st.Mesh.Peer(cluster.EU); !p.OK() || p.ViaKVStoreMesh != 3 {
		t.Errorf("us's agents after eu went: %+v, want connected to their apiserver, eu via kvstoremesh", p)
	}
	res, err := b.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 100}, nil)
	must(t, err)
	if res.Answers.EU != 0 || res.Errors == 0 || res.Answers.US == 0 {
		t.Errorf("probe from us with eu deleted: %s, want US answers and failed requests to the stale EU backend", res)
	}
	if err := b.WaitConnected(ctx, cluster.US, cluster.Discard); err == nil {
		t.Error("WaitConnected to a deleted peer succeeded")
	}
}

// The state is saved after every change, and a backend opened on the saved
// state carries on exactly where the other was.
func TestPersistence(t *testing.T) {
	store := &memStore{}
	b := newTestBackend(t, Options{Seed: 9, Store: store, Now: fixedNow})
	ctx, log := context.Background(), cluster.Discard
	reopened := func() *Backend {
		t.Helper()
		r, err := New(Options{Seed: 9, Store: store, Now: fixedNow})
		if err != nil {
			t.Fatalf("reopen: %v", err)
		}
		return r
	}
	ops := []struct {
		name string
		run  func() error
	}{
		{"create us", func() error { return b.CreateCluster(ctx, cluster.US, log) }},
		{"create eu", func() error { return b.CreateCluster(ctx, cluster.EU, log) }},
		{"install us", func() error { return b.InstallCilium(ctx, cluster.US, log) }},
		{"share CA", func() error { return b.ShareCA(ctx, cluster.US, cluster.EU, log) }},
		{"install eu", func() error { return b.InstallCilium(ctx, cluster.EU, log) }},
		{"wait us", func() error { return b.WaitCilium(ctx, cluster.US, log) }},
		{"wait eu", func() error { return b.WaitCilium(ctx, cluster.EU, log) }},
		{"enable us", func() error { return b.EnableClusterMesh(ctx, cluster.US, log) }},
		{"enable eu", func() error { return b.EnableClusterMesh(ctx, cluster.EU, log) }},
		{"connect", func() error { return b.Connect(ctx, cluster.US, cluster.EU, log) }},
		{"wait connected us", func() error { return b.WaitConnected(ctx, cluster.US, log) }},
		{"wait connected eu", func() error { return b.WaitConnected(ctx, cluster.EU, log) }},
		{"deploy us", func() error { return b.DeployDemo(ctx, cluster.US, log) }},
		{"deploy eu", func() error { return b.DeployDemo(ctx, cluster.EU, log) }},
		{"annotate us", func() error {
			return b.ConfigureService(ctx, cluster.US, cluster.ServiceChange{Global: cluster.Bool(true), Affinity: cluster.AffinityPtr(cluster.AffinityLocal)}, log)
		}},
		{"annotate eu", func() error {
			return b.ConfigureService(ctx, cluster.EU, cluster.ServiceChange{Global: cluster.Bool(true)}, log)
		}},
		{"probe", func() error {
			_, err := b.Probe(ctx, cluster.ProbeSpec{From: cluster.EU, Requests: 50}, nil)
			return err
		}},
		{"scale us", func() error { return b.Scale(ctx, cluster.US, 0, log) }},
	}
	for _, op := range ops {
		saves := store.saves
		must(t, op.run())
		if store.saves == saves {
			t.Errorf("%s: nothing saved", op.name)
		}
		if got, want := stateJSON(t, reopened()), stateJSON(t, b); got != want {
			t.Errorf("%s: the saved state differs from the live one:\n%s\nwant\n%s", op.name, got, want)
		}
	}
	// Reads save nothing.
	saves := store.saves
	statuses(t, b)
	b.Explain(cluster.US)
	if store.saves != saves {
		t.Error("reading the status saved the state")
	}
	// The reopened backend's next probes are the live one's.
	r := reopened()
	for _, from := range []cluster.Name{cluster.EU, cluster.US, cluster.EU} {
		want, err := b.Probe(ctx, cluster.ProbeSpec{From: from, Requests: 500}, nil)
		must(t, err)
		got, err := r.Probe(ctx, cluster.ProbeSpec{From: from, Requests: 500}, nil)
		must(t, err)
		if !reflect.DeepEqual(got, want) {
			t.Errorf("probe from %s: reopened %v, live %v", from, got, want)
		}
	}
}

func TestSaveFailureIsReported(t *testing.T) {
	store := &memStore{}
	b := newTestBackend(t, Options{Store: store})
	store.saveErr = errors.New("disk full")
	err := b.CreateCluster(context.Background(), cluster.US, cluster.Discard)
	if err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("CreateCluster with a failing store: %v, want the save error", err)
	}
}

func TestCorruptState(t *testing.T) {
	good, err := json.Marshal(newState(1))
	must(t, err)
	cases := []struct {
		name string
		data string
	}{
		{"not JSON", "{bad"},
		{"truncated", string(good[:len(good)/2])},
		{"newer format", strings.Replace(string(good), `"version":1`, `"version":99`, 1)},
		{"a cluster missing", `{"version":1,"seed":1,"clusters":{"us":{}}}`},
		{"wrong type", `{"version":"one"}`},
	}
	for _, tc := range cases {
		_, err := New(Options{Seed: 1, Store: &memStore{data: []byte(tc.data)}})
		var ce *CorruptError
		if !errors.As(err, &ce) {
			t.Errorf("%s: New = %v, want a *CorruptError", tc.name, err)
		} else if ce.Unwrap() == nil || !strings.Contains(err.Error(), "corrupt") {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	if _, err := New(Options{Seed: 1, Store: &memStore{data: good}}); err != nil {
		t.Errorf("a valid state: %v", err)
	}
	loadErr := errors.New("permission denied")
	_, err = New(Options{Store: &memStore{loadErr: loadErr}})
	var ce *CorruptError
	if !errors.Is(err, loadErr) || errors.As(err, &ce) {
		t.Errorf("unreadable store: %v, want the read error, not corruption", err)
	}
}

// A create that dies half-way leaves a cluster marked as creating, which is
// not reported as existing and is replaced by the next create.
func TestHalfCreatedClusterIsReplaced(t *testing.T) {
	store := &memStore{}
	ctx := context.Background()
	b := newTestBackend(t, Options{Seed: 2, Store: store, Clock: &recClock{failOn: latControlPlane}})
	if err := b.CreateCluster(ctx, cluster.US, cluster.Discard); !errors.Is(err, errStopped) {
		t.Fatalf("interrupted create: %v", err)
	}
	// The process dies here; the next one opens the saved state.
	b2 := newTestBackend(t, Options{Seed: 2, Store: store})
	if st := statuses(t, b2)[0]; st.Exists {
		t.Fatalf("half-created cluster reported as existing: %+v", st)
	}
	if !b2.st.Clusters[cluster.US].Creating {
		t.Fatal("the saved state does not mark the cluster as being created")
	}
	if err := b2.InstallCilium(ctx, cluster.US, cluster.Discard); err == nil {
		t.Error("installing into a half-created cluster succeeded")
	}
	log := &logBuf{}
	must(t, b2.CreateCluster(ctx, cluster.US, log))
	if !strings.Contains(log.String(), "half-created") || !strings.Contains(log.String(), `Deleting cluster "us"`) {
		t.Errorf("create after an interrupted one logged:\n%s", log)
	}
	st := statuses(t, b2)[0]
	if !st.Exists || st.Nodes.Total != 3 || st.Nodes.Ready != 0 || b2.st.Clusters[cluster.US].Creating {
		t.Errorf("after re-create: %+v", st)
	}
	// The result is the cluster an uninterrupted create makes.
	clean := newTestBackend(t, Options{Seed: 2})
	must(t, clean.CreateCluster(ctx, cluster.US, cluster.Discard))
	if got, want := stateJSON(t, b2), stateJSON(t, clean); got != want {
		t.Errorf("re-created state:\n%s\nwant\n%s", got, want)
	}
}

// The latency model asks for the time the real operations take and logs
// their phases as kind and cilium-cli do.
func TestLatencyModel(t *testing.T) {
	clock := &recClock{}
	b := newTestBackend(t, Options{Seed: 1, Clock: clock})
	ctx := context.Background()
	log := &logBuf{}
	must(t, b.CreateCluster(ctx, cluster.US, log))
	if d, want := clock.take(), latImage+latPrepare+latConfig+latControlPlane+latStorage+latJoin; d != want {
		t.Errorf("create took %s, want %s", d, want)
	}
	last := -1
	for _, phase := range []string{"Ensuring node image", "Preparing nodes", "Writing configuration", "Starting control-plane", "Installing StorageClass", "Joining worker nodes"} {
		i := strings.Index(log.String(), phase)
		if i <= last {
			t.Errorf("create's log lacks %q after the previous phase:\n%s", phase, log)
		}
		last = i
	}
	must(t, b.InstallCilium(ctx, cluster.US, cluster.Discard))
	if d := clock.take(); d != latHelm {
		t.Errorf("install took %s, want %s", d, latHelm)
	}
	must(t, b.WaitCilium(ctx, cluster.US, cluster.Discard))
	if d := clock.take(); d != 3*latAgent {
		t.Errorf("waiting for 3 agents took %s, want %s", d, 3*latAgent)
	}
	must(t, b.EnableClusterMesh(ctx, cluster.US, cluster.Discard))
	if d := clock.take(); d != latHelm+latCertJob+latAPIServer {
		t.Errorf("enable took %s", d)
	}
}

func TestScaleAndDeployErrors(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t, Options{Seed: 1})
	must(t, b.CreateCluster(ctx, cluster.US, cluster.Discard))
	err := b.DeployDemo(ctx, cluster.US, cluster.Discard)
	if err == nil || !strings.Contains(err.Error(), "no node is Ready") {
		t.Errorf("deploy before Cilium: %v", err)
	}
	// Beyond what a laptop's simulation holds (below 0 is refused on every
	// backend: the conformance suite).
	b = newTestBackend(t, Options{Seed: 1})
	setup(t, b, true)
	if err := b.Scale(ctx, cluster.US, maxSimScale+1, cluster.Discard); err == nil {
		t.Errorf("scale to %d succeeded", maxSimScale+1)
	}
}

func TestParseSpeed(t *testing.T) {
	for in, want := range map[string]float64{"instant": 0, "fast": 0.1, "real": 1, "REAL": 1, "0.5": 0.5, "2x": 2, "10": 10, "0": 0} {
		got, err := ParseSpeed(in)
		if err != nil || got != want {
			t.Errorf("ParseSpeed(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	for _, in := range []string{"", "warp", "-1", "11", "NaNx", "1e9"} {
		if _, err := ParseSpeed(in); err == nil {
			t.Errorf("ParseSpeed(%q) succeeded", in)
		}
	}
}

// The same seed gives the same world whatever order the operations on the
// two clusters ran in (the lab runs them concurrently).
func TestStateDoesNotDependOnOrder(t *testing.T) {
	build := func(order []cluster.Name) string {
		b := newTestBackend(t, Options{Seed: 4})
		upToMesh(t, b, true)
		ctx := context.Background()
		for _, c := range order {
			must(t, b.DeployDemo(ctx, c, cluster.Discard))
		}
		for _, c := range order {
			must(t, b.Scale(ctx, c, 3, cluster.Discard))
		}
		return stateJSON(t, b)
	}
	want := build([]cluster.Name{cluster.US, cluster.EU})
	for range 5 {
		if got := build([]cluster.Name{cluster.EU, cluster.US}); got != want {
			t.Fatalf("EU first:\n%s\nUS first:\n%s", got, want)
		}
		if got := build([]cluster.Name{cluster.US, cluster.EU}); got != want {
			t.Fatalf("US first, again:\n%s\nbefore:\n%s", got, want)
		}
	}
}
