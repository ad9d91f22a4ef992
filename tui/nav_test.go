package tui

import "testing"

// The lab has 11 steps; the playground is panel 10, teardown panel 11.
const nSteps = 11

func TestNavLayout(t *testing.T) {
	n := newNav(nSteps)
	if len(n.panels) != nSteps+1 {
		t.Fatalf("%d panels, want %d", len(n.panels), nSteps+1)
	}
	if n.panels[10].kind != panelPlayground || n.panels[11].step != 10 {
		t.Fatalf("playground is not just before teardown: %+v", n.panels[9:])
	}
	if got := n.panelOf(10); got != 11 {
		t.Errorf("panelOf(teardown) = %d, want 11", got)
	}
}

func TestNavTransitions(t *testing.T) {
	fresh := newNav(nSteps)
	afterTwo := fresh.resume(2, doneUpTo(2))
	running := func() nav { n, _ := afterTwo.apply(actRun); return n }()
	tests := []struct {
		name       string
		start      nav
		act        navAction
		wantCursor int
		refused    bool
	}{
		{"next is refused before the first step ran", fresh, actNext, 0, true},
		{"prev is refused on the first step", fresh, actPrev, 0, true},
		{"run the frontier", fresh, actRun, 0, false},
		{"resume puts the cursor on the frontier", afterTwo, actPrev, 1, false},
		{"a second run while one runs is refused", running, actRun, 2, true},
		{"next is refused on a running frontier", running, actNext, 2, true},
		{"prev still moves while a step runs", running, actPrev, 1, false},
		{"running a done step is refused", func() nav { n, _ := afterTwo.apply(actPrev); return n }(), actRun, 1, true},
		{"running a later step is refused", func() nav { n := afterTwo; n.cursor = 3; return n }(), actRun, 3, true},
		{"next over a done step", func() nav { n, _ := afterTwo.apply(actPrev); return n }(), actNext, 2, false},
		{"next from the playground to teardown", fresh.resume(10, doneUpTo(10)), actNext, 11, false},
		{"the playground has no action", fresh.resume(10, doneUpTo(10)), actRun, 10, true},
		{"next is refused on the last panel", func() nav { n := fresh.resume(11, doneUpTo(11)); n.cursor = 11; return n }(), actNext, 11, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, why := tc.start.apply(tc.act)
			if (why != "") != tc.refused {
				t.Errorf("refused = %q, want refused %v", why, tc.refused)
			}
			if got.cursor != tc.wantCursor {
				t.Errorf("cursor = %d, want %d", got.cursor, tc.wantCursor)
			}
			if tc.refused && got.running != tc.start.running {
				t.Errorf("a refused action changed what runs")
			}
		})
	}
}

func TestNavFinishAndResume(t *testing.T) {
	n := newNav(nSteps)
	n, _ = n.apply(actRun)
	if n.marks[0] != markRunning || n.running != 0 {
		t.Fatalf("run did not mark the step running: %+v", n)
	}
	n = n.finish(0, false)
	if n.marks[0] != markFailed || n.running != -1 || n.frontier() != 0 {
		t.Fatalf("a failed step must stay the frontier: %+v", n)
	}
	n, why := n.apply(actRun)
	if why != "" {
		t.Fatalf("retry refused: %s", why)
	}
	n = n.finish(0, true)
	if n.frontier() != 1 || n.cursor != 0 {
		t.Errorf("after success: frontier %d cursor %d, want 1 and 0 (the outcome stays on screen)", n.frontier(), n.cursor)
	}
	// Resuming after scale-back lands on the playground, not on teardown.
	r := newNav(nSteps).resume(10, doneUpTo(10))
	if r.current().kind != panelPlayground || r.marks[10] != markPending {
		t.Errorf("resume(10): cursor %d, marks %v; want the cursor on the playground, not yet marked", r.cursor, r.marks)
	}
	if r = r.visit(); r.marks[10] != markDone {
		t.Errorf("the visited playground is marked %v, want done", r.marks[10])
	}
	if r.complete() {
		t.Error("the lab is not complete before teardown")
	}
	done := newNav(nSteps).resume(11, doneUpTo(11))
	if !done.complete() || done.cursor != 11 {
		t.Errorf("resume(11): complete %v cursor %d", done.complete(), done.cursor)
	}
}

// doneUpTo is what the runner's Resume reports when the steps before next
// are in place.
func doneUpTo(next int) []bool {
	done := make([]bool, nSteps)
	for i := range next {
		done[i] = true
	}
	return done
}

// After the teardown, the steps whose clusters are gone are marked torn:
// not done, not runnable, and they hold nobody back.
func TestNavTornDown(t *testing.T) {
	done := make([]bool, nSteps)
	done[0], done[10] = true, true // preflight and teardown
	n := newNav(nSteps).resume(11, done)
	if n.marks[0] != markDone || n.marks[5] != markTorn || n.marks[11] != markDone {
		t.Fatalf("marks after a teardown: %v", n.marks)
	}
	if !n.complete() || n.cursor != 11 || !n.tornDown() {
		t.Errorf("complete %v, cursor %d, torn down %v; want a complete lab on the teardown", n.complete(), n.cursor, n.tornDown())
	}
	n.cursor = 5
	if _, why := n.apply(actRun); why == "" {
		t.Error("a torn-down step runs again")
	}
	// In a session: the teardown finishes, then the live state is read.
	s := newNav(nSteps).resume(10, doneUpTo(10))
	s.cursor = 11
	s, _ = s.apply(actRun)
	s = s.finish(11, true).tearDown(11, done)
	if s.marks[5] != markTorn || s.marks[0] != markDone {
		t.Errorf("marks after tearing down in the session: %v", s.marks)
	}
}
