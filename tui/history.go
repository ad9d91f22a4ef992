package tui

import (
	"fmt"
	"slices"
	"strings"

	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// historyColumn is one probe round: the probes from US and EU of one phase.
type historyColumn struct {
	phase string
	res   [2]*cluster.ProbeResult
}

// historyColumns pairs the recorded probes into rounds, in order.
func historyColumns(recs []steps.ProbeRecord) []historyColumn {
	var cols []historyColumn
	for i := range recs {
		r := &recs[i]
		idx := r.Result.From.Index()
		n := len(cols)
		if n == 0 || cols[n-1].phase != r.Phase || cols[n-1].res[idx] != nil {
			cols = append(cols, historyColumn{phase: r.Phase})
			n++
		}
		cols[n-1].res[idx] = &r.Result
	}
	return cols
}

// historyLabel shortens a phase to fit a history cell.
func historyLabel(phase string) string {
	if phase == steps.PhaseAffinity {
		return "affinity"
	}
	return phase
}

// historyCellW is the width of one round in the strip.
const historyCellW = 13

// renderHistory draws every probe so far side by side, labelled by phase,
// so the whole story of the lab reads in one picture: each cell is a bar
// split between the answering clusters.
func (m *Model) renderHistory(l layout) string {
	w := l.w - chartWidth(l)
	inner := w - 4
	cols := historyColumns(m.history)
	var b strings.Builder
	b.WriteString(m.st.subtitle.Render("History") + m.st.muted.Render(fmt.Sprintf(" · %d probes", len(m.history))))
	if len(cols) == 0 {
		b.WriteString("\n\n" + m.st.muted.Render("Each probe round will appear here, labelled by phase:\nlocal only, global, affinity local, failover, back home."))
		return m.box(b.String(), w, l.bottomH, false)
	}
	fit := max(1, (inner-9)/historyCellW)
	more := ""
	if len(cols) > fit {
		more = m.st.muted.Render(fmt.Sprintf(" (%d of %d rounds)", fit, len(cols)))
		cols = pickRounds(cols, fit)
	}
	b.WriteString(more + "\n")
	rows := make([]string, 5)
	rows[0] = padRight("", 9)
	rows[1], rows[2] = padRight("from US", 9), padRight("", 9)
	rows[3], rows[4] = padRight("from EU", 9), padRight("", 9)
	for _, c := range cols {
		rows[0] += padRight(m.st.text.Render(ansi.Truncate(historyLabel(c.phase), historyCellW-1, "…")), historyCellW)
		for i, r := range c.res {
			bar, counts := m.st.muted.Render(strings.Repeat(glyphEmpty, historyCellW-2)), ""
			if r != nil {
				bar, counts = m.splitBar(*r, historyCellW-2), fmt.Sprintf("%d·%d", r.Answers.US, r.Answers.EU)
				if r.Errors > 0 {
					counts += m.st.errs.Render(fmt.Sprintf(" %s%d", glyphErr, r.Errors))
				}
			}
			rows[1+2*i] += padRight(bar, historyCellW)
			rows[2+2*i] += padRight(m.st.muted.Render(counts), historyCellW)
		}
	}
	b.WriteString(strings.Join(rows, "\n"))
	return m.box(b.String(), w, l.bottomH, false)
}

// splitBar is a bar of width w split between US and EU answers (and errors).
func (m *Model) splitBar(r cluster.ProbeResult, w int) string {
	done := r.Done()
	if done == 0 {
		return strings.Repeat(glyphEmpty, w)
	}
	cells := func(n int) int { return int(float64(n)*float64(w)/float64(done) + 0.5) }
	errs, us := cells(r.Errors), cells(r.Answers.US)
	if r.Answers.EU == 0 {
		us = w - errs
	}
	us = min(us, w-errs)
	eu := w - us - errs
	return m.st.us.Render(strings.Repeat(glyphUS, us)) + m.st.eu.Render(strings.Repeat(glyphEU, eu)) + m.st.errs.Render(strings.Repeat(glyphErr, errs))
}

// visibleWidth is the printed width of a styled string.
func visibleWidth(s string) int { return lipgloss.Width(s) }

// pickRounds keeps fit rounds when more were probed: the latest round of
// each phase of the story first, so the picture still tells the whole lab,
// then the most recent other rounds; the order stays chronological.
func pickRounds(cols []historyColumn, fit int) []historyColumn {
	keep := make([]bool, len(cols))
	last := map[string]int{}
	for i, c := range cols {
		if c.phase != steps.PhasePlayground {
			last[c.phase] = i
		}
	}
	story := make([]int, 0, len(last))
	for _, i := range last {
		story = append(story, i)
	}
	slices.Sort(story)
	if len(story) > fit {
		story = story[len(story)-fit:]
	}
	for _, i := range story {
		keep[i] = true
	}
	left := fit - len(story)
	for i := len(cols) - 1; i >= 0 && left > 0; i-- {
		if !keep[i] {
			keep[i] = true
			left--
		}
	}
	out := make([]historyColumn, 0, fit)
	for i, c := range cols {
		if keep[i] {
			out = append(out, c)
		}
	}
	return out
}
