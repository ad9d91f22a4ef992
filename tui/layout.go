package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"
)

// layout is how the screen is divided at the current size.
type layout struct {
	w, h int
	// small is a terminal below the minimum size.
	small bool
	// narrow replaces the sidebar by a line of marks under the header.
	narrow   bool
	sidebarW int
	mainW    int
	topH     int
	panesH   int
	bottomH  int
}

// Rows of the fixed parts of the screen.
const (
	panesHeight  = 10 // title and 8 rows: the mesh takes two (peer link, agents)
	bottomHeight = 8
	sidebarWidth = 30
	narrowBelow  = 130
)

func computeLayout(w, h int) layout {
	l := layout{w: w, h: h}
	if w < minWidth || h < minHeight {
		l.small = true
		return l
	}
	l.narrow = w < narrowBelow
	if !l.narrow {
		l.sidebarW = sidebarWidth
	}
	l.mainW = w - l.sidebarW
	l.panesH, l.bottomH = panesHeight, bottomHeight
	l.topH = h - 2 - l.panesH - l.bottomH
	if l.narrow {
		l.topH--
	}
	return l
}

func (m *Model) tooSmall() bool { return m.width > 0 && computeLayout(m.width, m.height).small }

// render rebuilds the cached pieces of the screen from the model. Every
// piece is a pure function of the model; View only joins them.
func (m *Model) render() {
	l := computeLayout(m.width, m.height)
	m.cache.layout = l
	if l.small || m.width == 0 {
		return
	}
	m.cache.header = m.renderHeader(l)
	m.cache.footer = m.renderFooter(l)
	if m.phase != phaseLab {
		return
	}
	m.cache.sidebar = m.renderSidebar(l)
	m.cache.panel = m.renderPanel(l)
	m.cache.panes = m.renderPanes(l)
	m.cache.chart = m.renderChart(l)
	m.cache.history = m.renderHistory(l)
}

// frame assembles the screen from the cached pieces.
func (m *Model) frame() string {
	l := m.cache.layout
	switch {
	case m.width == 0:
		return ""
	case l.small:
		return m.renderTooSmall()
	case m.phase != phaseLab:
		body := m.renderWelcome(l)
		return lipgloss.JoinVertical(lipgloss.Left, m.cache.header, body, m.cache.footer)
	}
	top := m.cache.panel
	if !l.narrow {
		top = lipgloss.JoinHorizontal(lipgloss.Top, m.cache.sidebar, m.cache.panel)
	}
	parts := []string{m.cache.header}
	if l.narrow {
		parts = append(parts, m.cache.sidebar)
	}
	bottom := lipgloss.JoinHorizontal(lipgloss.Top, m.cache.chart, m.cache.history)
	parts = append(parts, top, m.cache.panes, bottom, m.cache.footer)
	return strings.Join(parts, "\n")
}

// renderTooSmall asks for a bigger terminal instead of drawing a broken layout.
func (m *Model) renderTooSmall() string {
	msg := fmt.Sprintf("Enlarge the terminal to at least %d x %d\n(it is %d x %d now)\n\nq quits", minWidth, minHeight, m.width, m.height)
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, m.st.warn.Render(msg))
}

// renderHeader is the top line: the lab's name, the backend badge and the
// position in the lab.
func (m *Model) renderHeader(l layout) string {
	left := m.st.title.Render(" clustermesh-lab") + m.st.muted.Render("  ·  Multi-cluster networking with Cilium Cluster Mesh")
	var badge string
	switch {
	case m.phase == phaseLab && m.sess.Backend.Kind() == backendSim:
		badge = m.st.simBadge.Render(fmt.Sprintf("◆ SIMULATED MESH · seed %d", m.sess.Dir.Meta().Seed))
	case m.phase == phaseLab:
		badge = m.st.realBadge.Render("● KIND CLUSTERS")
	}
	pos := ""
	if m.phase == phaseLab {
		pos = m.st.muted.Render(m.positionText()) + " "
	}
	right := pos + badge
	if lipgloss.Width(left)+lipgloss.Width(right)+1 > l.w {
		left = m.st.title.Render(" clustermesh-lab")
	}
	gap := max(1, l.w-lipgloss.Width(left)-lipgloss.Width(right))
	return ansi.Truncate(left+strings.Repeat(" ", gap)+right, l.w, "…")
}

// positionText is "Step 4 of 11" or "Playground".
func (m *Model) positionText() string {
	cur := m.nav.current()
	if cur.kind == panelPlayground {
		return "Playground"
	}
	return fmt.Sprintf("Step %d of %d", cur.step+1, len(m.titles))
}

// renderFooter is the help line, a transient message, or the quit prompt.
func (m *Model) renderFooter(l layout) string {
	switch {
	case m.confirmQuit:
		return m.st.warn.Bold(true).Render(ansi.Truncate(" An action is running. Quit when it finishes, leaving nothing half-done? [y/n]", l.w, "…"))
	case m.flash != "":
		return m.st.accent.Render(ansi.Truncate(" "+m.flash, l.w, "…"))
	}
	m.help.SetWidth(l.w - 1)
	h := helpKeys{k: m.keys, welcome: m.phase != phaseLab, playground: m.phase == phaseLab && m.nav.current().kind == panelPlayground}
	return " " + m.help.ShortHelpView(h.ShortHelp())
}

// box renders content in a bordered block of exactly w x h cells.
func (m *Model) box(content string, w, h int, active bool) string {
	s := m.st.box
	if active {
		s = m.st.boxActive
	}
	inner := h - 2
	lines := strings.Split(content, "\n")
	if len(lines) > inner {
		lines = lines[:inner]
	}
	for i, ln := range lines {
		lines[i] = ansi.Truncate(ln, w-4, "…")
	}
	return s.Width(w).Height(h).MaxHeight(h).Render(strings.Join(lines, "\n"))
}
