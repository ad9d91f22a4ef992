package tui

import (
	"fmt"
	"strings"
)

// shortTitles name the steps in the sidebar, where full titles do not fit.
var shortTitles = map[string]string{
	"preflight":          "Check the machine",
	"create-clusters":    "Create clusters",
	"install-cilium":     "Install Cilium",
	"enable-clustermesh": "Enable Cluster Mesh",
	"connect":            "Connect clusters",
	"deploy":             "Deploy & probe",
	"global":             "Global service",
	"affinity-local":     "Affinity local",
	"scale-down":         "Failover",
	"scale-back":         "Back home",
	"teardown":           "Tear down",
}

// markGlyph is a panel's mark: done, running, failed or pending.
func (m *Model) markGlyph(p int) string {
	switch m.nav.marks[p] {
	case markDone:
		return m.st.ok.Render("✓")
	case markRunning:
		return m.spinner.View()
	case markFailed:
		return m.st.fail.Render("✗")
	}
	return m.st.muted.Render("·")
}

// panelLabel is the sidebar's name of panel p, with its number.
func (m *Model) panelLabel(p int) string {
	pn := m.nav.panels[p]
	if pn.kind == panelPlayground {
		return "★  Playground"
	}
	id := m.sess.Runner.Steps[pn.step].ID()
	return fmt.Sprintf("%2d %s", pn.step+1, shortTitles[id])
}

// renderSidebar lists every step with its mark, or, on a narrow terminal,
// draws the marks on one line under the header.
func (m *Model) renderSidebar(l layout) string {
	if l.narrow {
		var b strings.Builder
		b.WriteString(" ")
		for p := range m.nav.panels {
			g := m.markGlyph(p)
			if m.nav.panels[p].kind == panelPlayground {
				g = m.st.accent.Render("★")
			}
			if p == m.nav.cursor {
				g = "[" + g + "]"
			} else {
				g = " " + g + " "
			}
			b.WriteString(g)
		}
		return b.String()
	}
	var b strings.Builder
	b.WriteString(m.st.subtitle.Render("LAB STEPS") + "\n\n")
	for p := range m.nav.panels {
		label := m.panelLabel(p)
		cursor := "  "
		if p == m.nav.cursor {
			cursor = m.st.keyHint.Render("▸ ")
			label = m.st.selected.Render(label)
		} else if m.nav.marks[p] == markPending {
			label = m.st.muted.Render(label)
		}
		fmt.Fprintf(&b, "%s%s %s\n", cursor, m.markGlyph(p), label)
	}
	done := 0
	for p, pn := range m.nav.panels {
		if pn.kind == panelStep && m.nav.marks[p] == markDone {
			done++
		}
	}
	fmt.Fprintf(&b, "\n%s", m.st.muted.Render(fmt.Sprintf("%d of %d steps done", done, len(m.titles))))
	return m.box(b.String(), l.sidebarW, l.topH, false)
}
