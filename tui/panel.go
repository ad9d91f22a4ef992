package tui

import (
	"fmt"
	"strings"
	"time"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// minLogRows is the smallest log the panel keeps while a step runs.
const minLogRows = 3

// renderPanel draws the current panel: a step (title, explanation,
// commands, action, log, outcome), the playground, or the full help.
func (m *Model) renderPanel(l layout) string {
	innerW, innerH := l.mainW-4, l.topH-2
	if m.help.ShowAll {
		m.help.SetWidth(innerW)
		body := m.st.subtitle.Render("Keys") + "\n\n" + m.help.FullHelpView(helpKeys{k: m.keys}.FullHelp()) +
			"\n\n" + m.st.muted.Render("Previous steps are read-only: going back never re-runs them. Any key closes this help.")
		return m.box(body, l.mainW, l.topH, true)
	}
	cur := m.nav.current()
	if cur.kind == panelPlayground {
		return m.box(m.renderPlayground(innerW, innerH), l.mainW, l.topH, true)
	}
	s := m.sess.Runner.Steps[cur.step]
	var explain []string
	if m.showExplain {
		explain = append(headless.Wrap(s.Explain(), innerW), "")
	}
	commands := m.renderCommands(s.Commands(m.sess.Env.CommandVars()), innerW)
	action := []string{"", m.actionLine(cur.step)}
	tail := m.outcomeLines(cur.step, innerW)
	fixed := 2 + len(commands) + len(action) + len(tail)
	logNeed := minLogRows
	if len(m.logs[cur.step]) == 0 && m.nav.marks[m.nav.cursor] != markRunning {
		logNeed = 0
	}
	if room := innerH - fixed - logNeed; len(explain) > room {
		// Short of room, the explanation gives way to the log.
		note := "… (e hides the explanation)"
		if room <= 1 {
			note = "(the explanation needs a taller terminal)"
		}
		explain = append(explain[:max(0, room-1)], m.st.muted.Render(note))
	}
	head := append([]string{m.panelTitle(s, innerW), ""}, explain...)
	head = append(head, commands...)
	logRows := innerH - len(head) - len(action) - len(tail)
	m.logView.SetWidth(innerW)
	m.logView.SetHeight(max(0, logRows))
	if !m.logScrolled {
		m.logView.GotoBottom()
	}
	body := strings.Join(head, "\n") + "\n" + strings.Join(action, "\n")
	if logRows > 0 {
		body += "\n" + m.logView.View()
	}
	if len(tail) > 0 {
		body += "\n" + strings.Join(tail, "\n")
	}
	return m.box(body, l.mainW, l.topH, true)
}

// panelTitle is the step's title with its state on the right.
func (m *Model) panelTitle(s steps.Step, w int) string {
	left := m.st.subtitle.Render(fmt.Sprintf("Step %d of %d", m.nav.current().step+1, len(m.titles))) + "  " + m.st.title.Render(s.Title())
	state := m.markGlyph(m.nav.cursor)
	gap := max(1, w-lipgloss.Width(left)-lipgloss.Width(state))
	return left + strings.Repeat(" ", gap) + state
}

// renderCommands shows the seed's manual commands, grouped by terminal.
func (m *Model) renderCommands(cmds []steps.Command, w int) []string {
	out := []string{m.st.muted.Render("Equivalent commands") + m.st.muted.Render("  (c copies them)")}
	for _, c := range cmds {
		out = append(out, m.st.where.Render("  # "+c.Where))
		for i, ln := range c.Lines {
			prompt := "$ "
			if i > 0 && strings.HasSuffix(c.Lines[i-1], "\\") {
				prompt = "  "
			}
			out = append(out, "  "+m.st.prompt.Render(prompt)+m.st.command.Render(ansi.Truncate(ln, w-4, "…")))
		}
	}
	return out
}

// commandsText is the current panel's commands as plain shell text, for
// the clipboard.
func (m *Model) commandsText() string {
	cur := m.nav.current()
	var cmds []steps.Command
	if cur.kind == panelPlayground {
		cmds = m.playgroundCommands()
	} else {
		cmds = m.sess.Runner.Steps[cur.step].Commands(m.sess.Env.CommandVars())
	}
	var b strings.Builder
	for _, c := range cmds {
		fmt.Fprintf(&b, "# %s\n%s\n", c.Where, strings.Join(c.Lines, "\n"))
	}
	return b.String()
}

// actionLine says what the step's action is doing, or what to press.
func (m *Model) actionLine(step int) string {
	p := m.nav.cursor
	elapsed := func() string { return fmt.Sprintf("%.1fs", m.now.Sub(m.started[step]).Seconds()) }
	switch {
	case m.nav.marks[p] == markRunning:
		line := m.spinner.View() + m.st.running.Render(" Running… ") + m.st.muted.Render(elapsed())
		if m.quitAfter {
			line += m.st.warn.Render("  · quitting when it ends")
		}
		return line
	case m.action != "" && m.logTarget() == step:
		return m.spinner.View() + m.st.running.Render(" Probing again… ") + m.st.muted.Render(elapsed())
	case m.nav.marks[p] == markFailed:
		return m.st.fail.Render("✗ Failed") + m.st.muted.Render(" after "+round(m.results[step].Elapsed)) + m.st.keyHint.Render("   enter retries")
	case m.nav.marks[p] == markDone:
		r, ok := m.results[step]
		line := m.st.ok.Render("✓ Done")
		if ok && !r.Skipped {
			line += m.st.muted.Render(" in " + round(r.Elapsed))
		} else {
			line += m.st.muted.Render(" (its check passes on the live state)")
		}
		if m.probeStep(step) {
			line += m.st.keyHint.Render("   p probes again")
		}
		if p < len(m.nav.panels)-1 {
			line += m.st.keyHint.Render("   → next")
		}
		return line
	case p == m.nav.frontier():
		return m.st.keyHint.Render("▶ Press enter to run this step")
	}
	return m.st.muted.Render("Run the steps before this one first.")
}

// outcomeLines explain a finished step: what happened and what it means,
// or the error and what to do next.
func (m *Model) outcomeLines(step, w int) []string {
	r, ok := m.results[step]
	if !ok || m.nav.marks[m.nav.cursor] == markRunning {
		return nil
	}
	var out []string
	if r.Err != nil {
		for _, ln := range headless.Wrap(r.Err.Error(), w) {
			out = append(out, m.st.fail.Render(ln))
		}
		if h := cluster.HintOf(r.Err); h != "" {
			for i, ln := range headless.Wrap("What to do: "+h, w) {
				if i == 0 {
					ln = m.st.keyHint.Render("What to do:") + strings.TrimPrefix(ln, "What to do:")
				}
				out = append(out, ln)
			}
		}
		return out
	}
	for _, ln := range headless.Wrap(r.Summary, w) {
		out = append(out, m.st.text.Render(ln))
	}
	for _, wn := range r.Warnings {
		for _, ln := range headless.Wrap("! "+wn, w) {
			out = append(out, m.st.warn.Render(ln))
		}
	}
	return out
}

// renderLogLine tags a log line with its cluster's colour.
func (m *Model) renderLogLine(l steps.LogLine) string {
	text := stripEmoji(l.Text)
	if l.Cluster == "" {
		return m.st.muted.Render("     ") + text
	}
	return m.st.cluster(l.Cluster).Render(fmt.Sprintf("[%s] ", l.Cluster)) + text
}

// stripEmoji drops the pictographs kind and cilium-cli decorate their
// lines with: terminals disagree on their width, which would break the
// panel's border.
func stripEmoji(s string) string {
	if strings.IndexFunc(s, isPictograph) < 0 {
		return s
	}
	s = strings.Map(func(r rune) rune {
		if isPictograph(r) {
			return -1
		}
		return r
	}, s)
	return strings.Join(strings.Fields(s), " ")
}

func isPictograph(r rune) bool {
	switch {
	case r == 0xFE0F, r == 0x200D, r == 0x2139:
		return true
	case r >= 0x2600 && r <= 0x27BF:
		return true
	case r >= 0x1F000 && r <= 0x1FAFF:
		return true
	}
	return false
}

func round(d time.Duration) string {
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
