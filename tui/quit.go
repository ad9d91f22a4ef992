package tui

import tea "charm.land/bubbletea/v2"

// Quitting. Nothing runs: q and ctrl+c quit at once. An action runs: the
// guide asks first, and y quits as soon as the action ends, so no state is
// left half-written; ctrl+c at the prompt (or once quitting) interrupts
// the action, and once more leaves at once. A quit pending stops anything
// new from starting.

// signalMsg reports a signal to the process: the caller's context ended.
type signalMsg struct{}

// onSignal quits at once when nothing runs; otherwise the action, whose
// context the signal ended, is interrupted and the guide quits when it
// returns. A second signal leaves at once.
func (m *Model) onSignal() tea.Cmd {
	if !m.busy() {
		return tea.Quit
	}
	return m.interrupt()
}

// onQuitKey handles q and ctrl+c outside the prompt.
func (m *Model) onQuitKey(ctrlC bool) tea.Cmd {
	switch {
	case !m.busy():
		return tea.Quit
	case ctrlC && m.quitAfter:
		return m.interrupt()
	}
	m.confirmQuit = true
	m.dirty |= dFooter
	return nil
}

// onConfirmKey answers the prompt: y quits (now, or when the action
// ends), n or esc stays, ctrl+c interrupts the action.
func (m *Model) onConfirmKey(msg tea.KeyPressMsg) tea.Cmd {
	switch {
	case msg.String() == "ctrl+c":
		if !m.busy() {
			return tea.Quit
		}
		return m.interrupt()
	case keyIs(msg, m.keys.Yes):
		m.confirmQuit = false
		if !m.busy() {
			return tea.Quit
		}
		m.quitAfter = true
		m.syncLab()
	case keyIs(msg, m.keys.No), keyIs(msg, m.keys.Quit):
		m.confirmQuit = false
	}
	m.dirty |= dFooter
	return nil
}

// interrupt cancels the running action and quits when it returns; a
// second interrupt leaves without waiting (the lab resumes from its live
// state next time).
func (m *Model) interrupt() tea.Cmd {
	if m.interrupted {
		return tea.Quit
	}
	m.interrupted, m.quitAfter, m.confirmQuit = true, true, false
	m.actCancel()
	m.syncLab()
	return nil
}

// cannotStart says why no new action may start now, or "".
func (m *Model) cannotStart() string {
	switch {
	case m.quitAfter:
		return "quitting: nothing new starts"
	case m.nav.running >= 0:
		return "wait for the running step to finish"
	case m.action != "":
		return "wait for the " + m.action + " to finish"
	case m.checking:
		return "reading the live state after the step; try again in a moment"
	}
	return ""
}
