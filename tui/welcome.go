package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// renderWelcome is the first screen: what the lab does, and where the
// clusters will run.
func (m *Model) renderWelcome(l layout) string {
	w := min(96, l.w-4)
	var b strings.Builder
	b.WriteString(m.st.subtitle.Render("Multi-cluster networking with Cilium Cluster Mesh") + "\n\n")
	for _, ln := range headless.Wrap("Two Kubernetes clusters, US and EU, joined by Cilium Cluster Mesh. Each step explains itself, shows the kind / cilium / kubectl commands you would type, runs them for you, and charts which cluster answered.", w) {
		b.WriteString(m.st.text.Render(ln) + "\n")
	}
	b.WriteString("\n" + m.st.title.Render("What you will do") + "\n")
	for i, t := range m.titles {
		fmt.Fprintf(&b, "  %s %s\n", m.st.muted.Render(fmt.Sprintf("%2d", i+1)), t)
	}
	b.WriteString("\n" + m.st.title.Render("Where the clusters run") + "\n")
	real := "Docker or Podman: "
	switch {
	case m.detecting:
		real += m.spinner.View() + " looking for an engine…"
	case m.engineErr != nil:
		real += m.st.warn.Render("none answers") + m.st.muted.Render(" (clustermesh-lab doctor tells why)")
	default:
		real += m.st.ok.Render(m.engine + " answers")
	}
	b.WriteString(m.option(backendKind, "Real kind clusters", real) + "\n")
	b.WriteString(m.option(backendSim, "Simulated mesh", "no Docker needed; behaves as Cilium does, seeded and replayable") + "\n\n")
	switch {
	case m.phase == phaseOpening:
		b.WriteString(m.spinner.View() + m.st.running.Render(" Opening the lab and reading the live state…"))
	case m.openErr != nil:
		for _, ln := range headless.Wrap("Could not open the lab: "+m.openErr.Error(), w) {
			b.WriteString(m.st.fail.Render(ln) + "\n")
		}
		if h := cluster.HintOf(m.openErr); h != "" {
			b.WriteString(m.st.keyHint.Render("What to do: ") + h + "\n")
		}
		b.WriteString(m.st.muted.Render("enter tries again"))
	default:
		b.WriteString(m.st.keyHint.Render("enter") + m.st.muted.Render(" starts the lab · ") + m.st.keyHint.Render("↑/↓") + m.st.muted.Render(" chooses · ") + m.st.keyHint.Render("q") + m.st.muted.Render(" quits"))
	}
	body := m.st.boxActive.Padding(1, 3).Render(b.String())
	return lipgloss.Place(l.w, l.h-2, lipgloss.Center, lipgloss.Center, body)
}

// option is one backend choice with its radio mark.
func (m *Model) option(kind, name, detail string) string {
	mark, style := "○", m.st.muted
	if m.choice == kind {
		mark, style = "●", m.st.selected
	}
	cursor := "  "
	if m.choice == kind {
		cursor = m.st.keyHint.Render("▸ ")
	}
	if kind == backendSim {
		name += " " + m.st.simBadge.Render("SIMULATED")
	}
	return cursor + style.Render(mark+" ") + style.Render(padRight(name, 20)) + "  " + detail
}
