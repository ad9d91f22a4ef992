package cluster

import "testing"

// side builds the load balancer's view of one cluster's Service.
func side(global, shared bool, aff Affinity, ready int) Side {
	return Side{ServiceExists: true, Settings: Settings{Global: global, Shared: shared, Affinity: aff}, Ready: ready}
}

var (
	none   = AffinityNone
	local  = AffinityLocal
	remote = AffinityRemote
	noSvc  = Side{}
)

type candCase struct {
	name              string
	local, remote     Side
	connected         bool
	wantLocal, wantRe int
}

func runCandidates(t *testing.T, cases []candCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l, r := Candidates(tc.local, tc.remote, tc.connected)
			if l != tc.wantLocal || r != tc.wantRe {
				t.Errorf("Candidates(%+v, %+v, connected=%t) = (%d local, %d remote), want (%d, %d)",
					tc.local, tc.remote, tc.connected, l, r, tc.wantLocal, tc.wantRe)
			}
		})
	}
}

// Rule: service.cilium.io/global="true" gives a cluster's Service the
// backends of every cluster with a Service of the same name; it must be
// annotated in every cluster that takes part.
func TestCandidatesGlobal(t *testing.T) {
	runCandidates(t, []candCase{
		{"both global: local and remote backends", side(true, true, none, 1), side(true, true, none, 1), true, 1, 1},
		{"local not global: local only", side(false, true, none, 1), side(true, true, none, 1), true, 1, 0},
		{"remote not global: remote exports nothing", side(true, true, none, 1), side(false, true, none, 1), true, 1, 0},
		{"neither global", side(false, true, none, 2), side(false, true, none, 3), true, 2, 0},
		{"no Service in the remote cluster", side(true, true, none, 1), noSvc, true, 1, 0},
		{"no Service in the local cluster: nothing to balance", noSvc, side(true, true, none, 1), true, 0, 0},
		// The weighting is per backend pod, not per cluster: Candidates
		// returns pod counts and the balancer picks one pod uniformly.
		{"per-backend counts 1:3", side(true, true, none, 1), side(true, true, none, 3), true, 1, 3},
		{"per-backend counts 5:2", side(true, true, none, 5), side(true, true, none, 2), true, 5, 2},
	})
}

// Rule: service.cilium.io/shared="false": this cluster still uses remote
// backends but does not export its own. Default true for a global service.
func TestCandidatesShared(t *testing.T) {
	runCandidates(t, []candCase{
		{"local shared=false still uses remote backends", side(true, false, none, 1), side(true, true, none, 2), true, 1, 2},
		{"remote shared=false exports nothing", side(true, true, none, 1), side(true, false, none, 2), true, 1, 0},
		{"both shared=false: each uses only its own", side(true, false, none, 1), side(true, false, none, 2), true, 1, 0},
		{"remote shared=false leaves local affinity no failover", side(true, true, local, 0), side(true, false, none, 2), true, 0, 0},
	})
}

// Rule: affinity none (the default): local and remote backends together.
func TestCandidatesAffinityNone(t *testing.T) {
	runCandidates(t, []candCase{
		{"none mixes both", side(true, true, none, 2), side(true, true, none, 3), true, 2, 3},
		{"unset affinity behaves as none", side(true, true, "", 2), side(true, true, none, 3), true, 2, 3},
		{"none with zero local: remote only", side(true, true, none, 0), side(true, true, none, 3), true, 0, 3},
		{"none with zero remote: local only", side(true, true, none, 2), side(true, true, none, 0), true, 2, 0},
	})
}

// Rule: affinity local: local backends only; remote ones only when there are
// zero active local backends and at least one healthy remote one.
func TestCandidatesAffinityLocal(t *testing.T) {
	runCandidates(t, []candCase{
		{"local backends only", side(true, true, local, 1), side(true, true, none, 3), true, 1, 0},
		{"fails over when local has zero", side(true, true, local, 0), side(true, true, none, 3), true, 0, 3},
		{"returns when local is back", side(true, true, local, 1), side(true, true, none, 3), true, 1, 0},
		{"zero local and zero remote: nothing", side(true, true, local, 0), side(true, true, none, 0), true, 0, 0},
		{"the remote's own affinity does not matter", side(true, true, local, 0), side(true, true, remote, 2), true, 0, 2},
	})
}

// Rule: affinity remote, the mirror image of local.
func TestCandidatesAffinityRemote(t *testing.T) {
	runCandidates(t, []candCase{
		{"remote backends only", side(true, true, remote, 3), side(true, true, none, 1), true, 0, 1},
		{"falls back to local when remote has zero", side(true, true, remote, 3), side(true, true, none, 0), true, 3, 0},
		{"falls back to local when remote is not shared", side(true, true, remote, 3), side(true, false, none, 2), true, 3, 0},
		{"falls back to local when not connected", side(true, true, remote, 3), side(true, true, none, 2), false, 3, 0},
		{"zero everywhere: nothing", side(true, true, remote, 0), side(true, true, none, 0), true, 0, 0},
	})
}

// Rule: affinity applies to global services only.
func TestCandidatesAffinityOnlyForGlobal(t *testing.T) {
	runCandidates(t, []candCase{
		{"remote affinity on a local Service is ignored", side(false, true, remote, 2), side(true, true, none, 3), true, 2, 0},
		{"local affinity on a local Service gives no failover", side(false, true, local, 0), side(true, true, none, 3), true, 0, 0},
	})
}

// Rule: a service with no backend anywhere fails the request.
func TestCandidatesNoBackends(t *testing.T) {
	runCandidates(t, []candCase{
		{"global, zero everywhere", side(true, true, none, 0), side(true, true, none, 0), true, 0, 0},
		{"local Service with zero replicas", side(false, true, none, 0), side(true, true, none, 0), true, 0, 0},
		{"no Services at all", noSvc, noSvc, true, 0, 0},
	})
}

// Rule: remote backends are only known through a connected mesh.
func TestCandidatesNotConnected(t *testing.T) {
	runCandidates(t, []candCase{
		{"not connected: local only", side(true, true, none, 1), side(true, true, none, 3), false, 1, 0},
		{"not connected, local affinity, zero local: nothing", side(true, true, local, 0), side(true, true, none, 3), false, 0, 0},
		{"not connected, zero local: nothing", side(true, true, none, 0), side(true, true, none, 3), false, 0, 0},
	})
}
