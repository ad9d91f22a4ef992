package tui

import (
	"context"
	"fmt"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Update routes each message to the handler for its kind, then re-renders
// what changed. It never blocks: every piece of work is a command.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
	case tea.KeyPressMsg:
		cmds = append(cmds, m.onKey(msg))
	case engineMsg:
		m.detecting = false
		m.engine, m.engineErr = msg.name, msg.err
		if !m.opts.BackendFixed {
			m.choice = backendSim
			if msg.err == nil {
				m.choice = backendKind
			}
		}
	case openedMsg:
		cmds = append(cmds, m.onOpened(msg))
	case resumedMsg:
		cmds = append(cmds, m.onResumed(msg))
	case statusTickMsg:
		if m.sess != nil && !m.statusBusy {
			m.statusBusy = true
			cmds = append(cmds, m.statusCmd())
		}
	case statusMsg:
		m.statusBusy = false
		m.haveStatus = true
		m.status, m.statusErr = msg.st, msg.err
		cmds = append(cmds, m.statusTick())
	case clockTickMsg:
		m.now = time.Time(msg)
		if m.busy() {
			cmds = append(cmds, clockTick())
		}
	case spinner.TickMsg:
		if m.busy() {
			var cmd tea.Cmd
			m.spinner, cmd = m.spinner.Update(msg)
			cmds = append(cmds, cmd)
		}
	case batchThen:
		m.onEvent(msg.batch)
		cmds = append(cmds, m.onEvent(msg.then), m.ev.next())
	case stepStartedMsg, logBatchMsg, probeMsg, stepDoneMsg, actionDoneMsg:
		cmds = append(cmds, m.onEvent(msg), m.ev.next())
	}
	if !m.flashUntil.IsZero() && m.now.After(m.flashUntil) {
		m.flash, m.flashUntil = "", time.Time{}
	}
	m.render()
	return m, tea.Batch(cmds...)
}

// busy reports a running step or action.
func (m *Model) busy() bool { return m.nav.running >= 0 || m.action != "" }

// say shows a short message in the footer for a few seconds.
func (m *Model) say(format string, args ...any) {
	m.flash = fmt.Sprintf(format, args...)
	m.flashUntil = m.now.Add(4 * time.Second)
}

func (m *Model) onOpened(msg openedMsg) tea.Cmd {
	if msg.err != nil {
		m.openErr = msg.err
		m.phase = phaseWelcome
		return nil
	}
	m.sess = msg.sess
	m.ev = newEvents()
	m.sess.SetReporter(m.ev)
	m.openErr = nil
	m.statusBusy = true
	return tea.Batch(m.resumeCmd(), m.ev.next(), m.statusCmd())
}

func (m *Model) onResumed(msg resumedMsg) tea.Cmd {
	m.phase = phaseLab
	if msg.err != nil {
		m.say("could not read the live state: %v", msg.err)
	}
	m.nav = m.nav.resume(msg.next)
	m.history = msg.history
	m.showLastProbes()
	m.loadLog()
	return nil
}

// showLastProbes puts the latest recorded probes in the chart.
func (m *Model) showLastProbes() {
	for _, p := range m.history {
		m.live[p.Result.From.Index()] = p.Result
		m.livePhase = p.Phase
	}
}

// onEvent applies one report from the runner.
func (m *Model) onEvent(msg tea.Msg) tea.Cmd {
	switch msg := msg.(type) {
	case stepStartedMsg:
		m.started[msg.index] = m.now
		m.newRound = true
		m.logs[msg.index] = nil
		delete(m.results, msg.index)
		m.loadLog()
	case logBatchMsg:
		k := m.logTarget()
		lines := append(m.logs[k], msg.lines...)
		if len(lines) > maxLogLines {
			lines = lines[len(lines)-maxLogLines:]
		}
		m.logs[k] = lines
		m.loadLog()
	case probeMsg:
		u := msg.update
		if m.newRound {
			m.live, m.inFlight, m.newRound = [2]cluster.ProbeResult{}, [2]bool{}, false
		}
		i := u.Result.From.Index()
		m.live[i], m.inFlight[i] = u.Result, !u.Final
		m.livePhase = u.Phase
	case stepDoneMsg:
		m.results[msg.index] = msg.result
		m.nav = m.nav.finish(m.nav.panelOf(msg.index), msg.result.Err == nil)
		m.history = m.sess.Journal.Probes()
		m.inFlight = [2]bool{}
		return m.afterAction()
	case actionDoneMsg:
		m.action, m.actionErr = "", msg.err
		m.history = m.sess.Journal.Probes()
		m.inFlight = [2]bool{}
		if msg.err != nil {
			m.say("%s failed: %v", msg.what, msg.err)
		}
		return m.afterAction()
	}
	return nil
}

// afterAction quits if the learner asked to, else refreshes the panes.
func (m *Model) afterAction() tea.Cmd {
	if m.quitAfter {
		return tea.Quit
	}
	if !m.statusBusy {
		m.statusBusy = true
		return m.statusCmd()
	}
	return nil
}

// logTarget is the step whose log receives lines: the running step, else
// the panel that started the running action.
func (m *Model) logTarget() int {
	if m.nav.running >= 0 {
		return m.nav.panels[m.nav.running].step
	}
	return m.nav.current().step
}

// loadLog shows the current panel's log, following its end.
func (m *Model) loadLog() {
	lines := m.logs[m.nav.current().step]
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = m.renderLogLine(l)
	}
	m.logView.SetContentLines(out)
	if !m.logScrolled {
		m.logView.GotoBottom()
	}
}

func (m *Model) onKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	if m.confirmQuit {
		switch {
		case key.Matches(msg, k.Yes):
			m.confirmQuit, m.quitAfter = false, true
			m.say("quitting when the current action ends (ctrl+c again to interrupt it)")
		case key.Matches(msg, k.No), key.Matches(msg, k.Quit):
			m.confirmQuit = false
		}
		return nil
	}
	if key.Matches(msg, k.Quit) {
		return m.quit(msg.String() == "ctrl+c")
	}
	if m.tooSmall() {
		return nil
	}
	if key.Matches(msg, k.Help) {
		m.help.ShowAll = !m.help.ShowAll
		return nil
	}
	if m.help.ShowAll {
		m.help.ShowAll = false
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

// quit leaves at once when nothing runs; otherwise it asks first, and
// stops after the current action so no state is left half-written. A
// second ctrl+c interrupts the action itself.
func (m *Model) quit(ctrlC bool) tea.Cmd {
	if !m.busy() {
		return tea.Quit
	}
	if m.quitAfter && ctrlC {
		m.cancel()
		m.say("interrupting the current action…")
		return nil
	}
	m.confirmQuit = true
	return nil
}

func (m *Model) onWelcomeKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(msg, m.keys.Choose):
		if m.opts.BackendFixed {
			m.say("the backend was chosen with --backend")
			return nil
		}
		if m.choice == backendSim {
			if m.engineErr != nil || m.detecting {
				m.say("the real lab needs Docker or Podman: %s", errText(m.engineErr, "still detecting"))
				return nil
			}
			m.choice = backendKind
		} else {
			m.choice = backendSim
		}
	case key.Matches(msg, m.keys.Run):
		m.phase = phaseOpening
		m.openErr = nil
		return m.openCmd(m.choice)
	}
	return nil
}

func errText(err error, none string) string {
	if err == nil {
		return none
	}
	return err.Error()
}

func (m *Model) onLabKey(msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	cur := m.nav.current()
	if cur.kind == panelPlayground {
		if cmd, ok := m.onPlaygroundKey(msg); ok {
			return cmd
		}
	}
	switch {
	case key.Matches(msg, k.Next), key.Matches(msg, k.Prev):
		a := actNext
		if key.Matches(msg, k.Prev) {
			a = actPrev
		}
		n, why := m.nav.apply(a)
		if why != "" {
			m.say("%s", why)
		}
		if n.cursor != m.nav.cursor {
			m.nav = n
			m.logScrolled = false
			m.loadLog()
		}
	case key.Matches(msg, k.Run):
		if m.action != "" {
			m.say("wait for the %s to finish", m.action)
			return nil
		}
		n, why := m.nav.apply(actRun)
		if why != "" {
			if m.probeStep(cur.step) && m.nav.marks[m.nav.cursor] == markDone {
				why += " (p probes again)"
			}
			m.say("%s", why)
			return nil
		}
		m.nav = n
		m.actionErr = nil
		return tea.Batch(m.runStepCmd(cur.step), m.spinner.Tick, clockTick())
	case key.Matches(msg, k.Probe):
		return m.reprobe()
	case key.Matches(msg, k.Explain):
		m.showExplain = !m.showExplain
	case key.Matches(msg, k.Copy):
		text := m.commandsText()
		m.say("copied the commands to the clipboard (OSC 52)")
		return tea.SetClipboard(text)
	case key.Matches(msg, k.ScrollUp):
		m.logView.ScrollUp(1)
	case key.Matches(msg, k.ScrollDown):
		m.logView.ScrollDown(1)
	case key.Matches(msg, k.PageUp):
		m.logView.PageUp()
	case key.Matches(msg, k.PageDown):
		m.logView.PageDown()
	}
	// Scrolling up pins the log; coming back to its end follows it again.
	if key.Matches(msg, k.ScrollUp, k.ScrollDown, k.PageUp, k.PageDown) {
		m.logScrolled = !m.logView.AtBottom()
	}
	return nil
}

// probePhases maps the probing steps to their phase in the story.
var probePhases = map[string]string{
	"deploy":         steps.PhaseLocal,
	"global":         steps.PhaseGlobal,
	"affinity-local": steps.PhaseAffinity,
	"scale-down":     steps.PhaseFailover,
	"scale-back":     steps.PhaseHome,
}

// playgroundID names the playground's probes in the journal.
const playgroundID = "playground"

func (m *Model) probeStep(step int) bool {
	if step < 0 || step >= len(m.sess.Runner.Steps) {
		return false
	}
	_, ok := probePhases[m.sess.Runner.Steps[step].ID()]
	return ok
}

// reprobe probes again from a done probing step, or from the playground.
func (m *Model) reprobe() tea.Cmd {
	if m.busy() {
		m.say("wait for the current action to finish")
		return nil
	}
	cur := m.nav.current()
	id, phase := playgroundID, steps.PhasePlayground
	if cur.kind == panelStep {
		if !m.probeStep(cur.step) || m.nav.marks[m.nav.cursor] != markDone {
			m.say("probing again works on a done probe step or in the playground")
			return nil
		}
		id = m.sess.Runner.Steps[cur.step].ID()
		phase = probePhases[id]
	}
	m.action = "probe"
	m.newRound = true
	m.started[cur.step] = m.now
	return tea.Batch(m.probeCmd(id, phase), m.spinner.Tick, clockTick())
}

// playgroundChange applies a change to the selected cluster's hello-world.
func (m *Model) playgroundChange(what string, fn func(ctx context.Context, b cluster.Backend, log cluster.Logger) error) tea.Cmd {
	if m.busy() {
		m.say("wait for the current action to finish")
		return nil
	}
	m.action = what
	m.started[-1] = m.now
	b, c, env := m.sess.Backend, m.pgCluster, m.sess.Env
	log := cluster.LoggerFunc(func(line string) {
		env.Reporter.Log(steps.LogLine{Time: time.Now(), Cluster: c, Text: line})
	})
	return tea.Batch(m.actionCmd(what, func(ctx context.Context) error { return fn(ctx, b, log) }), m.spinner.Tick, clockTick())
}
