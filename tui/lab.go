package tui

import (
	"context"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// keyIs reports whether msg is one of the binding's keys.
func keyIs(msg tea.KeyPressMsg, b key.Binding) bool { return key.Matches(msg, b) }

// onKey routes a key press: a key ends the footer's message, then the quit
// prompt, the help and the current screen have it in turn.
func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.footer.clear() {
		m.dirty |= dFooter
	}
	if m.ap.on {
		if cmd, handled := m.onApKey(msg); handled {
			return cmd
		}
	}
	k := m.keys
	switch {
	case m.confirmQuit:
		return m.onConfirmKey(msg)
	case keyIs(msg, k.Quit):
		return m.onQuitKey(msg.String() == "ctrl+c")
	case m.lay.mode == modeSmall:
		return nil
	case keyIs(msg, k.Help) || m.showHelp:
		m.showHelp = !m.showHelp && keyIs(msg, k.Help)
		m.dirty |= dHelp
		return nil
	}
	switch m.phase {
	case phaseWelcome:
		return m.onWelcomeKey(msg)
	case phaseLab:
		return m.onLabKey(msg)
	}
	return nil
}

func (m *Model) onWelcomeKey(msg tea.KeyPressMsg) tea.Cmd {
	w := &m.welcome
	switch {
	case keyIs(msg, m.keys.Choose):
		switch {
		case w.fixed:
			return m.say("the backend was chosen with --backend")
		case w.choice == backendSim && (w.engineErr != nil || w.detecting):
			why := "still looking for one"
			if w.engineErr != nil {
				why = w.engineErr.Error()
			}
			return m.say("the real lab needs Docker or Podman: %s", why)
		case w.choice == backendSim:
			w.choice = backendKind
		default:
			w.choice = backendSim
		}
	case keyIs(msg, m.keys.Start):
		return m.startLab()
	}
	m.dirty |= dWelcome
	return nil
}

// startLab opens the lab on the chosen backend.
func (m *Model) startLab() tea.Cmd {
	m.phase = phaseOpening
	m.welcome.opening, m.welcome.openErr = true, nil
	m.dirty |= dWelcome
	return m.openCmd(m.welcome.choice)
}

func (m *Model) onLabKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.quiz.asking {
		return m.onQuizKey(msg)
	}
	if keyIs(msg, k.Views) || keyIs(msg, k.NextView) {
		if m.lay.mode != modeCompact {
			// On one screen only the flows have no place of their own:
			// they take the step panel's, and 1 (or v) gives it back.
			switch {
			case keyIs(msg, k.NextView) && m.view == viewFlows, msg.String() == "1":
				m.setView(viewStep)
			case keyIs(msg, k.NextView), msg.String() == "4":
				m.setView(viewFlows)
			default:
				return m.say("at this size the step, the clusters and the probes are all on screen; 4 shows the flows")
			}
			m.dirty |= dPanel | dPlay
			return nil
		}
		if keyIs(msg, k.NextView) {
			m.setView((m.view + 1) % nViews)
		} else {
			m.setView(view(msg.String()[0] - '1'))
		}
		return nil
	}
	cur := m.nav.current()
	if cur.kind == panelPlayground {
		if cmd, ok := m.onPlaygroundKey(msg); ok {
			return cmd
		}
	}
	switch {
	case keyIs(msg, k.Next), keyIs(msg, k.Prev):
		a := actNext
		if keyIs(msg, k.Prev) {
			a = actPrev
		}
		n, why := m.nav.apply(a)
		if why != "" {
			return m.say("%s", why)
		}
		m.nav = n.visit()
		m.syncLab()
	case keyIs(msg, k.Run):
		return m.runStep()
	case keyIs(msg, k.Probe):
		return m.reprobe()
	case keyIs(msg, k.Explain):
		m.panel.showExplain = !m.panel.showExplain
		m.dirty |= dPanel
	case keyIs(msg, k.Copy):
		return tea.Batch(tea.SetClipboard(m.commandsText()), m.say("copied the commands to the clipboard (OSC 52)"))
	default:
		m.onScrollKey(msg)
	}
	return nil
}

// onScrollKey scrolls the panel in the step panel's place, when it shows.
func (m *Model) onScrollKey(msg tea.KeyPressMsg) {
	if m.lay.mode == modeCompact && m.view != viewStep {
		return
	}
	k := m.keys
	page := m.panel.page()
	scroll := func(d int) {
		if m.nav.current().kind == panelPlayground {
			m.play.scroll(&m.st, d)
			m.dirty |= dPlay
		} else {
			m.panel.scroll(&m.st, d)
			m.dirty |= dPanel
		}
	}
	switch {
	case keyIs(msg, k.ScrollUp):
		scroll(-1)
	case keyIs(msg, k.ScrollDown):
		scroll(1)
	case keyIs(msg, k.PageUp):
		scroll(-page)
	case keyIs(msg, k.PageDown):
		scroll(page)
	case keyIs(msg, k.Top):
		scroll(toTop)
	case keyIs(msg, k.Bottom):
		scroll(toEnd)
	}
}

// commandsText is the current panel's commands as shell text, for the
// clipboard.
func (m *Model) commandsText() string {
	cur := m.nav.current()
	cmds := steps.PlaygroundCommands(m.play.st)
	if cur.kind == panelStep {
		cmds = m.commandsOf(cur.step)
	}
	var b []byte
	for _, c := range cmds {
		b = append(b, "# "+c.Where+"\n"...)
		for _, ln := range c.Lines {
			b = append(b, ln+"\n"...)
		}
	}
	return string(b)
}

// runStep runs the step under the cursor, if it is the one to run.
func (m *Model) runStep() tea.Cmd {
	if why := m.cannotStart(); why != "" {
		return m.say("%s", why)
	}
	cur := m.nav.current()
	if _, why := m.nav.apply(actRun); why != "" {
		if cur.kind == panelStep && m.steps[cur.step].Phase() != "" && m.nav.marks[m.nav.cursor] == markDone {
			why += " (p probes again)"
		}
		return m.say("%s", why)
	}
	if m.askFirst(false) {
		return nil
	}
	return m.startStep(nil)
}

// startStep runs the step under the cursor, with the learner's prediction
// when the quiz asked for one.
func (m *Model) startStep(said *steps.Choice) tea.Cmd {
	cur := m.nav.current()
	n, why := m.nav.apply(actRun)
	if why != "" {
		return m.say("%s", why)
	}
	m.nav = n
	clock := m.startClock()
	ctx := m.newActionContext()
	if said != nil {
		ctx = steps.WithPrediction(ctx, *said)
	}
	m.probes.newRound = true
	m.syncLab()
	return tea.Batch(m.runStepCmd(ctx, cur.step), clock)
}

// newActionContext is the context of the action that starts: ctrl+c at
// the quit prompt cancels it.
func (m *Model) newActionContext() context.Context {
	ctx, cancel := context.WithCancel(m.ctx)
	m.actCancel = cancel
	return ctx
}

// reprobe probes again from a done probing step, or from the playground:
// a new round, labelled with what the clusters are now.
func (m *Model) reprobe() tea.Cmd {
	if why := m.cannotStart(); why != "" {
		return m.say("%s", why)
	}
	if cur := m.nav.current(); cur.kind == panelStep {
		s := m.steps[cur.step]
		if s.Phase() == "" || m.nav.marks[m.nav.cursor] != markDone {
			return m.say("probing again works on a done step that probes, or in the playground")
		}
	}
	if m.askFirst(true) {
		return nil
	}
	return m.startReprobe(nil)
}

// startReprobe probes again from the panel under the cursor, with the
// learner's prediction when the quiz asked for one.
func (m *Model) startReprobe(said *steps.Choice) tea.Cmd {
	id := steps.PlaygroundID
	if cur := m.nav.current(); cur.kind == panelStep {
		id = m.steps[cur.step].ID()
	}
	env := m.sess.Env
	m.probes.newRound = true
	return m.startAction("probe", func(ctx context.Context) ([]steps.ProbeRecord, error) {
		if said != nil {
			ctx = steps.WithPrediction(ctx, *said)
		}
		return steps.Reprobe(ctx, env, id)
	})
}

// startAction runs work that is not a step (a re-probe, a playground
// change) for the panel under the cursor.
func (m *Model) startAction(what string, fn func(ctx context.Context) ([]steps.ProbeRecord, error)) tea.Cmd {
	m.action, m.actPanel = what, m.nav.cursor
	m.play.lastErr = nil
	clock := m.startClock()
	ctx := m.newActionContext()
	m.syncLab()
	return tea.Batch(m.actionCmd(ctx, what, fn), clock)
}

// onPlaygroundKey handles the playground's own keys; ok is false for keys
// it leaves to the lab (navigation, probe, help).
func (m *Model) onPlaygroundKey(msg tea.KeyPressMsg) (tea.Cmd, bool) {
	k := m.keys
	c := m.play.sel
	st := m.play.st[c.Index()]
	set := st.Demo.Service.Settings
	var change *cluster.ServiceChange
	switch {
	case keyIs(msg, k.Cluster):
		m.play.sel = c.Peer()
		m.dirty |= dPlay
		return nil, true
	case keyIs(msg, k.Global):
		change = &cluster.ServiceChange{Global: cluster.Bool(!set.Global)}
	case keyIs(msg, k.Shared):
		change = &cluster.ServiceChange{Shared: cluster.Bool(!set.Shared)}
	case keyIs(msg, k.Affinity):
		change = &cluster.ServiceChange{Affinity: cluster.AffinityPtr(set.Affinity.Next())}
	case keyIs(msg, k.More), keyIs(msg, k.Fewer):
		n := st.Demo.HelloWorld.Desired + 1
		if keyIs(msg, k.Fewer) {
			n -= 2
		}
		if n < 0 || n > steps.MaxPlaygroundReplicas {
			return m.say("replicas stay within 0..%d here", steps.MaxPlaygroundReplicas), true
		}
		if why := m.cannotStart(); why != "" {
			return m.say("%s", why), true
		}
		env := m.sess.Env
		return m.startAction("scale", func(ctx context.Context) ([]steps.ProbeRecord, error) {
			return nil, steps.Scale(ctx, env, c, n)
		}), true
	default:
		return nil, false
	}
	if why := m.cannotStart(); why != "" {
		return m.say("%s", why), true
	}
	if !st.Demo.Service.Exists {
		return m.say("there is no hello-world Service in %s", c.Label()), true
	}
	env, ch := m.sess.Env, *change
	return m.startAction("annotate", func(ctx context.Context) ([]steps.ProbeRecord, error) {
		return nil, steps.Configure(ctx, env, c, ch)
	}), true
}

func (m *Model) onOpened(msg openedMsg) tea.Cmd {
	if msg.err != nil {
		m.phase = phaseWelcome
		m.welcome.opening, m.welcome.openErr = false, msg.err
		m.dirty |= dWelcome
		if m.ap.on {
			m.apPause() // the error is on screen: the learner decides
		}
		return nil
	}
	m.sess = msg.sess
	var next tea.Cmd
	if m.ev == nil {
		m.ev = newEvents()
		next = m.ev.next()
	} else {
		m.resetLab() // the autopilot's loop: a fresh lab, the same reader of its events
	}
	if m.ap.on && m.sess.Backend.Kind() == backendSim {
		// One cluster after the other: the logs then keep one order, and
		// the seed replays the same run, frame for frame.
		m.sess.Env.Sequential = true
	}
	m.sess.SetReporter(m.ev)
	m.steps = m.sess.Runner.Steps
	m.header.sim = m.sess.Backend.Kind() == backendSim
	m.header.real = !m.header.sim
	m.header.seed = m.sess.Dir.Meta().Seed
	m.panes.sim = m.header.sim
	m.statusBusy = true
	return tea.Batch(m.resumeCmd(), next, m.statusCmd())
}

// resetLab forgets the finished lab's progress before a fresh one.
func (m *Model) resetLab() {
	n := len(m.steps)
	m.nav = newNav(n)
	m.panel = newStepPanel(n)
	m.play = newPlayground()
	m.probes = probes{firstProbe: m.probes.firstProbe}
	m.panes.have = false
	m.dirty |= dLayout
}

func (m *Model) onResumed(msg resumedMsg) tea.Cmd {
	m.phase = phaseLab
	m.welcome.opening = false
	var cmd tea.Cmd
	if msg.err != nil {
		cmd = m.say("could not read the live state: %v", msg.err)
	}
	m.nav = m.nav.resume(msg.next, msg.done)
	for _, p := range msg.history {
		if p.Phase == steps.PhasePlayground {
			m.nav.played = true
		}
	}
	m.nav = m.nav.visit()
	m.nav.markPlayground()
	m.probes.setHistory(msg.history, true)
	m.quiz.setScore(msg.history)
	m.syncLab()
	m.dirty |= dLayout
	return tea.Batch(cmd, m.apBegin())
}

// onEvent applies one report from the runner.
func (m *Model) onEvent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case stepStartedMsg:
		m.panel.stepStarted(msg.index)
		m.dirty |= dPanel
	case logBatchMsg:
		if m.nav.running < 0 && m.action != "" && m.nav.panels[m.actPanel].kind == panelPlayground {
			m.play.appendLogs(&m.st, msg.lines)
			m.dirty |= dPlay
		} else {
			m.panel.appendLogs(&m.st, m.logStep(), msg.lines)
			m.dirty |= dPanel
		}
	case probeMsg:
		m.probes.update(msg.update)
		m.dirty |= dProbes
		if m.lay.mode == modeCompact && m.view != viewProbes && !m.tabs.fresh[viewProbes] {
			m.tabs.fresh[viewProbes] = true // a dot on the tab: the chart moved
			m.dirty |= dTabs
		}
		if m.lay.mode == modeCompact && m.view != viewFlows && !m.tabs.fresh[viewFlows] && len(msg.update.Result.Flows) > 0 {
			m.tabs.fresh[viewFlows] = true
			m.dirty |= dTabs
		}
	case stepDoneMsg:
		return m.onStepDone(msg)
	case actionDoneMsg:
		return m.onActionDone(msg)
	case progressMsg:
		m.checking = false
		if msg.err == nil {
			m.nav = m.nav.tearDown(msg.next, msg.done)
			m.syncLab()
		}
	}
	return nil
}

// logStep is the step whose log receives lines: the running step, else
// the step that started the running action.
func (m *Model) logStep() int {
	p := m.nav.running
	if p < 0 {
		p = m.actPanel
	}
	return m.nav.panels[p].step
}

func (m *Model) onStepDone(msg stepDoneMsg) tea.Cmd {
	took := m.clock().Sub(m.started)
	m.panel.results[msg.index] = outcome{res: msg.result, took: took}
	m.nav = m.nav.finish(m.nav.panelOf(msg.index), msg.result.Err == nil)
	m.checking = msg.result.Err == nil
	m.actCancel()
	return m.afterAction()
}

func (m *Model) onActionDone(msg actionDoneMsg) tea.Cmd {
	m.action = ""
	m.actCancel()
	var cmd tea.Cmd
	pn := m.nav.panels[m.actPanel]
	switch {
	case pn.kind == panelPlayground && msg.err != nil:
		m.play.lastErr = msg.err
	case pn.kind == panelPlayground && len(msg.recs) > 0:
		m.play.last = msg.recs
		m.nav.played = true
		m.nav.markPlayground()
	case pn.kind == panelStep && msg.what == "probe":
		m.panel.reprobes[pn.step] = append(m.panel.reprobes[pn.step], reprobe{at: m.clock(), recs: msg.recs, err: msg.err})
	}
	if msg.err != nil {
		cmd = m.say("%s failed: %v", msg.what, msg.err)
	}
	return tea.Batch(cmd, m.afterAction())
}

// afterAction quits if the learner asked to, else shows what changed and
// refreshes the panes.
func (m *Model) afterAction() tea.Cmd {
	if m.quitAfter {
		return tea.Quit
	}
	probes := m.sess.Journal.Probes()
	m.probes.setHistory(probes, false)
	m.quiz.setScore(probes)
	m.dirty |= dProbes
	m.syncLab()
	if m.statusBusy {
		return nil
	}
	m.statusBusy = true
	return m.statusCmd()
}
