package tui

import (
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// chartWidth is the bottom row's share of the chart; the history takes the rest.
func chartWidth(l layout) int { return l.w * 2 / 5 }

// renderChart draws the latest probe from each cluster: one bar per
// answering cluster, growing as answers arrive, with counts and shares.
func (m *Model) renderChart(l layout) string {
	w := chartWidth(l)
	inner := w - 4
	var b strings.Builder
	if m.live[0].Requests == 0 && m.live[1].Requests == 0 {
		b.WriteString(m.st.subtitle.Render("Responses") + "\n\n")
		b.WriteString(m.st.muted.Render("No probe yet. The first runs in step 6, from each\ncluster's busybox: who answers hello-world:80?"))
		return m.box(b.String(), w, l.bottomH, false)
	}
	title := m.st.subtitle.Render("Responses") + m.st.muted.Render(fmt.Sprintf(" · %s · %d each", m.livePhase, max(m.live[0].Requests, m.live[1].Requests)))
	if m.inFlight[0] || m.inFlight[1] {
		title += "  " + m.spinner.View()
	}
	b.WriteString(title + "\n")
	barW := max(5, inner-24)
	for _, from := range cluster.Names() {
		res := m.live[from.Index()]
		for i, to := range cluster.Names() {
			label := fmt.Sprintf("from %s", from.Label())
			if i == 1 {
				label = ""
				if res.Errors > 0 {
					label = m.st.errs.Render(fmt.Sprintf("%s %d err", glyphErr, res.Errors))
				}
			}
			b.WriteString("\n" + padRight(label, 10) + m.st.cluster(to).Render(to.Label()) + " " + m.bar(res, to, barW))
		}
	}
	return m.box(b.String(), w, l.bottomH, false)
}

// bar is one cluster's answers out of the probe's requests, so the bar
// grows while the probe runs, then its count and share of what finished.
func (m *Model) bar(res cluster.ProbeResult, to cluster.Name, w int) string {
	n := res.Answers.Of(to)
	filled := 0
	if res.Requests > 0 {
		filled = int(float64(n)*float64(w)/float64(res.Requests) + 0.5)
	}
	bar := m.st.cluster(to).Render(strings.Repeat(glyph(to), filled)) + m.st.muted.Render(strings.Repeat(glyphEmpty, w-filled))
	return bar + fmt.Sprintf(" %5d %3.0f%%", n, res.Share(n)*100)
}

// padRight pads a possibly styled string to w cells.
func padRight(s string, w int) string {
	return s + strings.Repeat(" ", max(0, w-visibleWidth(s)))
}
