package tui

// mark is a panel's progress, shown in the sidebar.
type mark int

const (
	markPending mark = iota
	markRunning
	markDone
	markFailed
	// markTorn is a step that ran before the teardown: its clusters are
	// gone, so it is not done any more, and it cannot run again in this lab.
	markTorn
)

// panelKind tells a step's panel from the playground's.
type panelKind int

const (
	panelStep panelKind = iota
	panelPlayground
)

// panel is one screen of the lab: a step, or the playground after the
// scripted steps.
type panel struct {
	kind panelKind
	// step indexes the runner's steps; -1 for the playground.
	step int
}

// nav is the lab's pure state machine: which panels exist, how far the
// learner got, where the cursor is and what runs. Moving back is a
// read-only cursor over what was done; only the frontier can run.
type nav struct {
	panels  []panel
	marks   []mark
	cursor  int
	running int // panel index, or -1
	// played is set once the learner has been to the playground (or the
	// journal shows a playground probe): only then is it marked done.
	played bool
}

// newNav lays out nSteps steps with the playground before the last one
// (teardown), so the learner can play while the clusters still exist.
func newNav(nSteps int) nav {
	n := nav{running: -1}
	for i := range nSteps {
		if i == nSteps-1 {
			n.panels = append(n.panels, panel{kind: panelPlayground, step: -1})
		}
		n.panels = append(n.panels, panel{kind: panelStep, step: i})
	}
	n.marks = make([]mark, len(n.panels))
	return n
}

// panelOf returns the panel index showing step i.
func (n nav) panelOf(step int) int {
	for p, pn := range n.panels {
		if pn.kind == panelStep && pn.step == step {
			return p
		}
	}
	return len(n.panels) - 1
}

// frontier is the first panel still to do; the playground and the steps
// before a teardown never hold the learner back.
func (n nav) frontier() int {
	for p, pn := range n.panels {
		if pn.kind == panelStep && n.marks[p] != markDone && n.marks[p] != markTorn {
			return p
		}
	}
	return len(n.panels) - 1
}

// tornDown reports steps undone by the teardown.
func (n nav) tornDown() bool {
	for _, k := range n.marks {
		if k == markTorn {
			return true
		}
	}
	return false
}

// complete reports every step done.
func (n nav) complete() bool {
	f := n.frontier()
	return n.panels[f].kind == panelStep && n.marks[f] == markDone
}

// current is the panel under the cursor.
func (n nav) current() panel { return n.panels[n.cursor] }

// navAction is what a key asks of the state machine.
type navAction int

const (
	actNext navAction = iota
	actPrev
	actRun
)

// apply returns the state after the action, or the state unchanged and why
// the action is refused.
func (n nav) apply(a navAction) (nav, string) {
	switch a {
	case actNext:
		if n.cursor >= len(n.panels)-1 {
			return n, "this is the last step"
		}
		if n.cursor >= n.frontier() && n.current().kind == panelStep {
			return n, "run this step first (enter): the next ones build on it"
		}
		n.cursor++
	case actPrev:
		if n.cursor == 0 {
			return n, "this is the first step"
		}
		n.cursor--
	case actRun:
		switch {
		case n.running >= 0:
			return n, "an action is already running"
		case n.current().kind != panelStep:
			return n, "the playground has no action: use its keys"
		case n.marks[n.cursor] == markDone:
			return n, "this step is done; going back never re-runs it"
		case n.marks[n.cursor] == markTorn:
			return n, "this step ran before the teardown; start a new lab (--fresh) to run it again"
		case n.cursor != n.frontier():
			return n, "run the steps in order: this one comes later"
		}
		n.running = n.cursor
		n.marks = append([]mark(nil), n.marks...)
		n.marks[n.cursor] = markRunning
	}
	return n, ""
}

// finish records how the running panel ended.
func (n nav) finish(p int, ok bool) nav {
	n.marks = append([]mark(nil), n.marks...)
	if ok {
		n.marks[p] = markDone
	} else {
		n.marks[p] = markFailed
	}
	if n.running == p {
		n.running = -1
	}
	n.markPlayground()
	return n
}

// resume marks the steps the live state shows done (the runner's Resume:
// next is the first step to do, done the steps in place; a step before next
// that is not in place was undone by the teardown) and puts the cursor on
// the frontier.
func (n nav) resume(next int, done []bool) nav {
	n.marks = make([]mark, len(n.panels))
	for p, pn := range n.panels {
		if pn.kind != panelStep || pn.step >= next {
			continue
		}
		n.marks[p] = markTorn
		if pn.step < len(done) && done[pn.step] {
			n.marks[p] = markDone
		}
	}
	n.markPlayground()
	n.cursor = n.frontier()
	if n.marks[n.cursor] == markDone {
		return n
	}
	// A learner back from a break lands on the playground, not on teardown.
	if n.cursor > 0 && n.panels[n.cursor-1].kind == panelPlayground {
		n.cursor--
	}
	return n
}

// tearDown marks the steps the teardown undid (the runner's Resume after
// it): the steps before next that are not in place.
func (n nav) tearDown(next int, done []bool) nav {
	n.marks = append([]mark(nil), n.marks...)
	for p, pn := range n.panels {
		if pn.kind == panelStep && pn.step < next && pn.step < len(done) && !done[pn.step] && n.marks[p] == markDone {
			n.marks[p] = markTorn
		}
	}
	return n
}

// visit records that the cursor reached the playground.
func (n nav) visit() nav {
	if n.current().kind == panelPlayground && !n.played {
		n.played = true
		n.marks = append([]mark(nil), n.marks...)
		n.markPlayground()
	}
	return n
}

// markPlayground shows the playground as done once the learner played there.
func (n *nav) markPlayground() {
	for p, pn := range n.panels {
		if pn.kind == panelPlayground {
			n.marks[p] = markPending
			if n.played {
				n.marks[p] = markDone
			}
		}
	}
}
