// Package clustertest is what every cluster.Backend must do, as one suite:
// the simulated mesh runs it from its tests, the real backend from its
// tests on client-go fakes and from the integration suite on real API
// servers. It walks one backend through the lab's phases as the steps
// drive it, and at each phase checks the contract's behaviours: what is
// refused with a sentinel before its prerequisite, what connect refuses,
// the status's shape, the probes' answers, and that doing it all again
// changes nothing.
package clustertest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Phase is how far the walk has brought the clusters, as the lab's steps do.
type Phase string

// The phases of the walk, in order.
const (
	Fresh       Phase = "fresh"        // nothing created
	Created     Phase = "created"      // both clusters, nothing in them
	Installed   Phase = "installed"    // Cilium in both, one CA, agents ready
	MeshEnabled Phase = "mesh-enabled" // clustermesh-apiserver up in both
	Connected   Phase = "connected"    // each cluster's agents see the other
	Hubble      Phase = "hubble"       // Hubble Relay and UI on
	Deployed    Phase = "deployed"     // the demo, local in both
	Global      Phase = "global"       // hello-world global in both
	Failover    Phase = "failover"     // US affinity local, scaled to 0
	Home        Phase = "home"         // US scaled back to 1
	TornDown    Phase = "torn-down"    // both clusters deleted
)

// Fault is a misconfiguration of EU that connect must refuse, changing
// nothing: what a learner's own clusters may hold.
type Fault string

// The faults Harness.Break makes.
const (
	// SameClusterID: EU's Cilium runs with US's cluster id.
	SameClusterID Fault = "same cluster id"
	// SameClusterName: EU's Cilium runs with US's cluster name.
	SameClusterName Fault = "same cluster name"
	// NoRemoteCert: EU's clustermesh-apiserver-remote-cert Secret is gone.
	NoRemoteCert Fault = "no remote certificate"
)

// Harness is what the suite needs of one backend.
type Harness struct {
	// New returns the backend on two clusters where the lab has created
	// nothing yet.
	New func(t *testing.T) cluster.Backend
	// Brought says the clusters are the learner's own (--us-kubeconfig):
	// they are there before CreateCluster, so nothing asks for
	// cluster.ErrNoCluster before it.
	Brought bool
	// OneLab says New may be called once per test (each call starts
	// clusters that cost minutes): the behaviours that need a lab of their
	// own are left out.
	OneLab bool
	// Break makes fault f in EU and returns what undoes it.
	Break func(t *testing.T, b cluster.Backend, f Fault) (restore func())
	// Snapshot renders what the backend keeps (Helm revisions, the
	// objects it writes, the simulated state): what must change nothing
	// is checked on it. nil compares the statuses instead, which suits a
	// backend whose status moves only when it acts, not one whose
	// controllers and agents still report as they catch up.
	Snapshot func(t *testing.T, b cluster.Backend) string
	// After, when set, runs the backend's own checks once the walk has
	// reached phase p (its operations run, then run again).
	After func(t *testing.T, b cluster.Backend, p Phase)
	// Log receives the progress lines of the walk's operations, for
	// After's checks of what the backend says; nil drops them.
	Log cluster.Logger
}

// log is where the walk's operations report.
func (h Harness) log() cluster.Logger {
	if h.Log == nil {
		return cluster.Discard
	}
	return h.Log
}

// Run checks the backend's behaviours: the walk through every phase, then,
// unless OneLab, the behaviours that need a lab of their own.
func Run(t *testing.T, h Harness) {
	t.Run("walk", func(t *testing.T) { walk(t, h, h.New(t)) })
	if h.OneLab {
		return
	}
	t.Run("own CA without sharing", func(t *testing.T) { ownCA(t, h, h.New(t)) })
	if !h.Brought {
		t.Run("share CA to a missing cluster", func(t *testing.T) { shareToMissing(t, h, h.New(t)) })
	}
}

// op is one operation on the backend.
type op func(ctx context.Context, b cluster.Backend, log cluster.Logger) error

// missing is an operation that must fail with the sentinel of what it
// lacks, before the phase that supplies it.
type missing struct {
	name string
	run  op
	want error
}

// refusal is a fault connect must refuse: its error says why (words),
// wraps a sentinel when one applies, and carries a hint.
type refusal struct {
	fault Fault
	words string
	is    error
}

// stage is one phase of the walk: what must be missing before it, what
// connect must refuse before it, the operations that reach it, the
// status's shape there and what the probes answer.
type stage struct {
	phase   Phase
	missing []missing
	refused []refusal
	reach   op
	// invalid are operations refused once the phase is reached, changing
	// nothing (their want is nil: no sentinel applies).
	invalid []missing
	// again is what running the phase again means; nil runs reach again.
	again  op
	status func(st [2]cluster.Status) error
	// probe is who answers the probes from US and from EU (nil: none).
	probe *[2]answers
}

// answers is who answers a probe: one cluster ("") or both.
type answers struct{ only cluster.Name }

// Requests is the size of each probe the walk takes: enough that answers
// from both clusters, one pod each, all come from one side by chance once
// in half a million probes.
const Requests = 20

func both(fn func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error) op {
	return func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		errs := make([]error, 2)
		var wg sync.WaitGroup
		for i, c := range cluster.Names() {
			wg.Go(func() { errs[i] = fn(ctx, b, c, log) })
		}
		wg.Wait()
		return errors.Join(errs...)
	}
}

func seq(ops ...op) op {
	return func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		for _, o := range ops {
			if err := o(ctx, b, log); err != nil {
				return err
			}
		}
		return nil
	}
}

func each(check func(c cluster.Name, st cluster.Status) error) func([2]cluster.Status) error {
	return func(st [2]cluster.Status) error {
		var errs []error
		for _, c := range cluster.Names() {
			if err := check(c, st[c.Index()]); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", c, err))
			}
		}
		return errors.Join(errs...)
	}
}

var (
	create = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.CreateCluster(ctx, c, log)
	})
	install = seq(
		func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.InstallCilium(ctx, cluster.US, log)
		},
		func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.ShareCA(ctx, cluster.US, cluster.EU, log)
		},
		func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.InstallCilium(ctx, cluster.EU, log)
		},
		both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
			return b.WaitCilium(ctx, c, log)
		}),
	)
	enable = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.EnableClusterMesh(ctx, c, log)
	})
	waitConnected = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.WaitConnected(ctx, c, log)
	})
	connect = seq(func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		return b.Connect(ctx, cluster.US, cluster.EU, log)
	}, waitConnected)
	// Connecting again, either way round, changes nothing.
	connectAgain = seq(connect, func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		return b.Connect(ctx, cluster.EU, cluster.US, log)
	}, waitConnected)
	hubble = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.EnableHubble(ctx, c, log)
	})
	deploy = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.DeployDemo(ctx, c, log)
	})
	global = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.ConfigureService(ctx, c, cluster.ServiceChange{Global: cluster.Bool(true)}, log)
	})
	failover = seq(func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
		return b.ConfigureService(ctx, cluster.US, cluster.ServiceChange{Affinity: cluster.AffinityPtr(cluster.AffinityLocal)}, log)
	}, scale(cluster.US, 0))
	teardown = both(func(ctx context.Context, b cluster.Backend, c cluster.Name, log cluster.Logger) error {
		return b.DeleteCluster(ctx, c, log)
	})
)

func scale(c cluster.Name, n int) op {
	return func(ctx context.Context, b cluster.Backend, log cluster.Logger) error { return b.Scale(ctx, c, n, log) }
}

// Operations that fail before their prerequisite, by the sentinel they
// must return.
var (
	needCilium = []missing{
		{"ShareCA from a cluster without Cilium", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.ShareCA(ctx, cluster.US, cluster.EU, log)
		}, cluster.ErrNoCilium},
		{"WaitCilium", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.WaitCilium(ctx, cluster.US, log)
		}, cluster.ErrNoCilium},
		{"EnableClusterMesh", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.EnableClusterMesh(ctx, cluster.US, log)
		}, cluster.ErrNoCilium},
		{"Connect", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.Connect(ctx, cluster.US, cluster.EU, log)
		}, cluster.ErrNoCilium},
		{"EnableHubble", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.EnableHubble(ctx, cluster.US, log)
		}, cluster.ErrNoCilium},
	}
	needMesh = []missing{
		{"Connect", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.Connect(ctx, cluster.US, cluster.EU, log)
		}, cluster.ErrMeshNotEnabled},
		{"WaitConnected", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.WaitConnected(ctx, cluster.US, log)
		}, cluster.ErrNotConnected},
	}
	needDemo = []missing{
		{"ConfigureService", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.ConfigureService(ctx, cluster.US, cluster.ServiceChange{Global: cluster.Bool(true)}, log)
		}, cluster.ErrNoDemo},
		{"Scale", scale(cluster.US, 1), cluster.ErrNoDemo},
		{"Probe", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			_, err := b.Probe(ctx, cluster.ProbeSpec{From: cluster.US, Requests: 3}, nil)
			return err
		}, cluster.ErrNoDemo},
	}
)

// stages is the walk: the lab's phases in order, each with what every
// backend must show there.
func stages(h Harness) []stage {
	var fresh []missing
	if !h.Brought {
		fresh = []missing{{"InstallCilium", func(ctx context.Context, b cluster.Backend, log cluster.Logger) error {
			return b.InstallCilium(ctx, cluster.US, log)
		}, cluster.ErrNoCluster}}
	}
	us, eu := &answers{only: cluster.US}, &answers{only: cluster.EU}
	mixed := &answers{}
	return []stage{
		{
			phase:   Fresh,
			missing: fresh,
			reach:   func(context.Context, cluster.Backend, cluster.Logger) error { return nil },
			// Deleting clusters that are not there succeeds.
			again: teardown,
			status: each(func(c cluster.Name, st cluster.Status) error {
				return want(!st.Exists && st.Cluster == c, "exists %t, cluster %q before anything was created", st.Exists, st.Cluster)
			}),
		},
		{
			phase: Created,
			reach: create,
			status: each(func(c cluster.Name, st cluster.Status) error {
				return want(st.Exists && st.Cluster == c && st.Nodes.Total == 3 && !st.Cilium.Installed && !st.Mesh.Enabled &&
					!st.Hubble.Applied && !st.Demo.Deployed() && !st.Demo.Service.Exists,
					"after create: %+v", st)
			}),
		},
		{
			phase:   Installed,
			missing: append(append([]missing{}, needCilium...), needDemo...),
			reach:   install,
			status: func(st [2]cluster.Status) error {
				err := each(func(c cluster.Name, st cluster.Status) error {
					ci := st.Cilium
					return want(ci.Ready() && ci.ClusterName == string(c) && ci.ClusterID == c.ID() && ci.Version == cluster.DefaultCiliumVersion &&
						ci.Agent.Desired == 3 && ci.Operator.Desired == 1 && st.Nodes.All() && st.Nodes.Total == 3 && ci.CA != "" && !st.Mesh.Enabled,
						"after install: nodes %+v, cilium %+v, mesh %+v", st.Nodes, ci, st.Mesh)
				})(st)
				// The CA was shared before the install in EU, which adopted it.
				return errors.Join(err, want(st[0].Cilium.CA == st[1].Cilium.CA, "CAs %q and %q after sharing, want one", st[0].Cilium.CA, st[1].Cilium.CA))
			},
		},
		{
			phase:   MeshEnabled,
			missing: needMesh,
			reach:   enable,
			status: each(func(c cluster.Name, st cluster.Status) error {
				m := st.Mesh
				return want(m.Ready() && m.ServiceType == "NodePort" && m.NodePort == cluster.DefaultMeshNodePort && len(m.Peers) == 0,
					"after enabling Cluster Mesh: %+v", m)
			}),
		},
		{
			phase: Connected,
			refused: []refusal{
				{fault: SameClusterID, words: "ids must differ"},
				{fault: SameClusterName, words: "names must differ"},
				{fault: NoRemoteCert, words: "clustermesh-apiserver-remote-cert", is: cluster.ErrMeshNotEnabled},
			},
			reach: connect,
			again: connectAgain,
			status: each(func(c cluster.Name, st cluster.Status) error {
				p, ok := st.Mesh.Peer(c.Peer())
				l, linked := st.Mesh.Link(c.Peer())
				return want(ok && p.OK() && p.Agents == 3 && p.String() == fmt.Sprintf("%s: 3/3 configured, 3/3 connected", c.Peer()) &&
					(!linked || l.Unknown || l.OK()),
					"after connect: peer %+v (%t), link %+v (%t)", p, ok, l, linked)
			}),
		},
		{
			phase: Hubble,
			reach: hubble,
			status: each(func(c cluster.Name, st cluster.Status) error {
				hb := st.Hubble
				return want(hb.Ready() && hb.RelayWanted && hb.UIWanted && hb.RelayReady() && hb.UIReady(), "after enabling Hubble: %+v", hb)
			}),
		},
		{
			phase:   Deployed,
			missing: needDemo,
			reach:   deploy,
			status: each(func(c cluster.Name, st cluster.Status) error {
				d := st.Demo
				return want(d.Deployed() && d.HelloWorld.OK() && d.HelloWorld.Desired == 1 && d.Service.Settings == cluster.DefaultSettings(),
					"after deploying the demo: %+v", d)
			}),
			invalid: []missing{{"Scale to -1", scale(cluster.US, -1), nil}},
			probe:   &[2]answers{*us, *eu},
		},
		{
			phase: Global,
			reach: global,
			status: each(func(c cluster.Name, st cluster.Status) error {
				s := st.Demo.Service.Settings
				return want(s == cluster.Settings{Global: true, Shared: true, Affinity: cluster.AffinityNone}, "service after making it global: %+v", s)
			}),
			probe: &[2]answers{*mixed, *mixed},
		},
		{
			phase: Failover,
			reach: failover,
			status: func(st [2]cluster.Status) error {
				u, e := st[0].Demo, st[1].Demo
				return want(u.Service.Affinity == cluster.AffinityLocal && u.Service.Global && u.HelloWorld.Present &&
					u.HelloWorld.Desired == 0 && u.HelloWorld.Ready == 0 && e.HelloWorld.OK() && e.HelloWorld.Desired == 1,
					"US scaled to 0 with affinity local: us %+v, eu %+v", u, e)
			},
			probe: &[2]answers{*eu, *eu},
		},
		{
			phase: Home,
			reach: scale(cluster.US, 1),
			status: func(st [2]cluster.Status) error {
				hw := st[0].Demo.HelloWorld
				return want(hw.OK() && hw.Desired == 1, "US scaled back to 1: %+v", hw)
			},
			probe: &[2]answers{*us, *mixed},
		},
		{
			phase: TornDown,
			reach: teardown,
			status: each(func(c cluster.Name, st cluster.Status) error {
				return want(!st.Exists, "after the teardown: %+v", st)
			}),
		},
	}
}

// want returns an error made of format and args unless ok.
func want(ok bool, format string, args ...any) error {
	if ok {
		return nil
	}
	return fmt.Errorf(format, args...)
}

// walk runs the stages in order on b, stopping at the first that fails.
func walk(t *testing.T, h Harness, b cluster.Backend) {
	for _, s := range stages(h) {
		if !t.Run(string(s.phase), func(t *testing.T) { runStage(t, h, b, s) }) {
			return
		}
	}
}

func runStage(t *testing.T, h Harness, b cluster.Backend, s stage) {
	ctx := context.Background()
	for _, m := range s.missing {
		checkMissing(t, h, b, m)
	}
	for _, r := range s.refused {
		checkRefused(t, h, b, r)
	}
	if err := s.reach(ctx, b, h.log()); err != nil {
		t.Fatalf("reaching %s: %v (hint: %s)", s.phase, err, cluster.HintOf(err))
	}
	st := statuses(t, b)
	if err := s.status(st); err != nil {
		t.Errorf("status: %v", err)
	}
	for _, m := range s.invalid {
		if err := unchanged(t, h, b, m.name, func() error { return m.run(ctx, b, h.log()) }); err == nil {
			t.Errorf("%s succeeded", m.name)
		}
	}
	if s.probe != nil {
		for _, c := range cluster.Names() {
			checkProbe(t, b, s.phase, c, s.probe[c.Index()])
		}
	}
	again := s.again
	if again == nil {
		again = s.reach
	}
	if err := unchanged(t, h, b, "running "+string(s.phase)+" again", func() error { return again(ctx, b, h.log()) }); err != nil {
		t.Fatalf("running %s again: %v (hint: %s)", s.phase, err, cluster.HintOf(err))
	}
	if err := s.status(statuses(t, b)); err != nil {
		t.Errorf("status after running %s again: %v", s.phase, err)
	}
	if h.After != nil {
		h.After(t, b, s.phase)
	}
}

// statuses reads both clusters.
func statuses(t *testing.T, b cluster.Backend) [2]cluster.Status {
	t.Helper()
	var out [2]cluster.Status
	for _, c := range cluster.Names() {
		st, err := b.Status(context.Background(), c)
		if err != nil {
			t.Fatalf("status of %s: %v", c, err)
		}
		out[c.Index()] = st
	}
	return out
}

// unchanged runs fn and fails the test if it changed the clusters (the
// backend's snapshot, else their status). fn's error is the caller's to
// judge.
func unchanged(t *testing.T, h Harness, b cluster.Backend, what string, fn func() error) error {
	t.Helper()
	if h.Snapshot == nil {
		before := statuses(t, b)
		err := fn()
		if after := statuses(t, b); !reflect.DeepEqual(after, before) {
			t.Errorf("%s changed the status:\n%+v\nwant\n%+v", what, after, before)
		}
		return err
	}
	before := h.Snapshot(t, b)
	err := fn()
	if after := h.Snapshot(t, b); after != before {
		t.Errorf("%s changed what the backend keeps:\n%s\nwant\n%s", what, after, before)
	}
	return err
}

// checkMissing runs an operation before its prerequisite: it fails with
// the sentinel, in the backend's own words (no step, no flag: the steps
// turn the sentinel into "run step N first"), and changes nothing.
func checkMissing(t *testing.T, h Harness, b cluster.Backend, m missing) {
	t.Helper()
	err := unchanged(t, h, b, m.name+" before its prerequisite", func() error { return m.run(context.Background(), b, h.log()) })
	if !errors.Is(err, m.want) {
		t.Errorf("%s: %v, want %v", m.name, err, m.want)
		return
	}
	namesNoStepOrFlag(t, m.name, err)
}

// checkRefused breaks EU as the fault says and connects: connect refuses,
// saying why with a hint, and changes nothing.
func checkRefused(t *testing.T, h Harness, b cluster.Backend, r refusal) {
	t.Helper()
	restore := h.Break(t, b, r.fault)
	defer restore()
	err := unchanged(t, h, b, "connect with "+string(r.fault), func() error {
		return b.Connect(context.Background(), cluster.US, cluster.EU, h.log())
	})
	switch {
	case err == nil:
		t.Errorf("connect with %s succeeded", r.fault)
	case !strings.Contains(err.Error(), r.words) || cluster.HintOf(err) == "":
		t.Errorf("connect with %s: %v (hint %q), want it to say %q with a hint", r.fault, err, cluster.HintOf(err), r.words)
	case r.is != nil && !errors.Is(err, r.is):
		t.Errorf("connect with %s: %v, want %v", r.fault, err, r.is)
	}
	if err != nil {
		namesNoStepOrFlag(t, "connect with "+string(r.fault), err)
	}
}

// namesNoStepOrFlag fails when an error or its hint names one of the lab's
// steps or command-line flags: a backend does not know them.
func namesNoStepOrFlag(t *testing.T, what string, err error) {
	t.Helper()
	for _, text := range []string{err.Error(), cluster.HintOf(err)} {
		for _, banned := range []string{"step", "--cilium", "--us-", "--eu-", "--fresh", "--lab-dir", "--backend"} {
			if strings.Contains(text, banned) {
				t.Errorf("%s: %q names %q", what, text, banned)
			}
		}
	}
}

// checkProbe probes from c and checks who answered.
func checkProbe(t *testing.T, b cluster.Backend, p Phase, c cluster.Name, a answers) {
	t.Helper()
	res, err := b.Probe(context.Background(), cluster.ProbeSpec{From: c, Requests: Requests, ID: "conformance/" + string(p)}, nil)
	if err != nil {
		t.Errorf("probe from %s: %v", c, err)
		return
	}
	ok := res.From == c && res.Requests == Requests && res.Errors == 0 && res.Answers.Total() == Requests
	if a.only != "" {
		ok = ok && res.Answers.Of(a.only) == Requests
	} else {
		ok = ok && res.Answers.US > 0 && res.Answers.EU > 0
	}
	if !ok {
		who := "answers from both clusters"
		if a.only != "" {
			who = "every answer from " + a.only.Label()
		}
		t.Errorf("probe %s, want %s", res, who)
	}
}

// ownCA installs Cilium in both clusters without sharing the CA: each
// install makes its own, and sharing it afterwards is refused, since
// Cilium in EU already runs with its own.
func ownCA(t *testing.T, h Harness, b cluster.Backend) {
	ctx, log := context.Background(), h.log()
	if err := create(ctx, b, log); err != nil {
		t.Fatal(err)
	}
	for _, c := range cluster.Names() {
		if err := b.InstallCilium(ctx, c, log); err != nil {
			t.Fatal(err)
		}
		if err := b.WaitCilium(ctx, c, log); err != nil {
			t.Fatal(err)
		}
	}
	st := statuses(t, b)
	if st[0].Cilium.CA == "" || st[0].Cilium.CA == st[1].Cilium.CA {
		t.Fatalf("two installs without sharing: CAs %q and %q, want two", st[0].Cilium.CA, st[1].Cilium.CA)
	}
	err := unchanged(t, h, b, "sharing the CA too late", func() error { return b.ShareCA(ctx, cluster.US, cluster.EU, log) })
	if err == nil || cluster.HintOf(err) == "" {
		t.Errorf("ShareCA into a Cilium running with its own CA: %v, want an error with a hint", err)
	}
}

// shareToMissing shares the CA to a cluster that was not created.
func shareToMissing(t *testing.T, h Harness, b cluster.Backend) {
	ctx, log := context.Background(), h.log()
	if err := b.CreateCluster(ctx, cluster.US, log); err != nil {
		t.Fatal(err)
	}
	if err := b.InstallCilium(ctx, cluster.US, log); err != nil {
		t.Fatal(err)
	}
	if err := b.ShareCA(ctx, cluster.US, cluster.EU, log); !errors.Is(err, cluster.ErrNoCluster) {
		t.Errorf("ShareCA to a cluster not created: %v, want %v", err, cluster.ErrNoCluster)
	}
}
