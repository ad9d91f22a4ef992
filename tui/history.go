package tui

import (
	"fmt"
	"slices"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// probes is the chart of the latest probe round above (or beside) the
// history of every round, the whole story of the lab in one picture.
type probes struct {
	w, h    int
	stacked bool
	chartW  int
	// firstProbe is the number of the first step that probes, for the
	// empty chart's hint.
	firstProbe int
	// hubbleStep is the number of the step that turns Hubble on, for the
	// empty flows view's hint.
	hubbleStep int
	// flowsW and flowsH size the flows view: the step panel's place on
	// one screen, the body in the compact mode.
	flowsW, flowsH int

	live     [2]cluster.ProbeResult
	phase    string
	label    string
	inFlight [2]bool
	newRound bool // the next probe update starts a new round in the chart
	history  []steps.ProbeRecord
	out      piece
}

// update shows a probe's running counts in the chart.
func (p *probes) update(u steps.ProbeUpdate) {
	if p.newRound {
		p.live, p.inFlight, p.newRound = [2]cluster.ProbeResult{}, [2]bool{}, false
	}
	i := u.Result.From.Index()
	p.live[i], p.inFlight[i] = u.Result, !u.Final
	p.phase, p.label = u.Phase, u.Label
}

// setHistory replaces the history with the journal's rounds and shows the
// last round in the chart when none is running.
func (p *probes) setHistory(recs []steps.ProbeRecord, showLast bool) {
	p.history = recs
	p.inFlight = [2]bool{}
	if !showLast {
		return
	}
	for _, r := range recs {
		p.live[r.Result.From.Index()] = r.Result
		p.phase, p.label = r.Phase, r.Label
	}
}

func (p probes) render(st *styles) []string {
	if p.stacked {
		out := p.chart(st, p.w, probeRows+2)
		out = append(out, p.historyBox(st, p.w, max(probeRows+2, p.h-len(out)))...)
		return fitLines(out, p.w, p.h)
	}
	chart, hist := p.chart(st, p.chartW, p.h), p.historyBox(st, p.w-p.chartW, p.h)
	out := make([]string, p.h)
	for i := range out {
		out[i] = chart[i] + hist[i]
	}
	return out
}

// chart draws the latest probe from each cluster: one bar per answering
// cluster, growing as answers arrive, with counts and shares.
func (p probes) chart(st *styles, w, h int) []string {
	inner := w - 4
	if p.live[0].Requests == 0 && p.live[1].Requests == 0 {
		lines := []string{st.subtitle.Render("Responses"), ""}
		for _, ln := range wrapMax(fmt.Sprintf("No probe yet. The first runs in step %d, from each cluster's busybox: who answers hello-world:80?", p.firstProbe), inner, h-4) {
			lines = append(lines, st.muted.Render(ln))
		}
		return st.box(lines, w, h, false)
	}
	title := st.subtitle.Render("Responses") + st.muted.Render(fmt.Sprintf(" · %s · %d each", p.phase, max(p.live[0].Requests, p.live[1].Requests)))
	if p.inFlight[0] || p.inFlight[1] {
		title = fit(title, inner-2) + " " + spinMark
	}
	lines := []string{title, st.muted.Render(p.label)}
	barW := max(5, inner-24)
	for _, from := range cluster.Names() {
		res := p.live[from.Index()]
		for i, to := range cluster.Names() {
			label := "from " + from.Label()
			if i == 1 {
				label = ""
				if res.Errors > 0 {
					label = st.errs.Render(fmt.Sprintf("%s %d err", glyphErr, res.Errors))
				}
			}
			lines = append(lines, padRight(label, 10)+st.cluster(to).Render(to.Label())+" "+st.bar(res, to, barW))
		}
	}
	return st.box(lines, w, h, false)
}

// bar is one cluster's answers out of the probe's requests, so the bar
// grows while the probe runs, then its count and share of what finished.
func (st *styles) bar(res cluster.ProbeResult, to cluster.Name, w int) string {
	n := res.Answers.Of(to)
	filled := 0
	if res.Requests > 0 {
		filled = min(w, int(float64(n)*float64(w)/float64(res.Requests)+0.5))
	}
	bar := st.cluster(to).Render(strings.Repeat(glyph(to), filled)) + st.muted.Render(strings.Repeat(glyphEmpty, w-filled))
	return bar + fmt.Sprintf(" %5d %3.0f%%", n, res.Share(n)*100)
}

// historyColumn is one probe round: the probes from US and EU of one phase.
type historyColumn struct {
	phase, label string
	res          [2]*cluster.ProbeResult
}

// historyColumns pairs the recorded probes into rounds, in order.
func historyColumns(recs []steps.ProbeRecord) []historyColumn {
	var cols []historyColumn
	for i := range recs {
		r := &recs[i]
		idx := r.Result.From.Index()
		n := len(cols)
		if n == 0 || cols[n-1].phase != r.Phase || cols[n-1].label != r.Label || cols[n-1].res[idx] != nil {
			cols = append(cols, historyColumn{phase: r.Phase, label: r.Label})
			n++
		}
		cols[n-1].res[idx] = &r.Result
	}
	return cols
}

// storyRound reports a round the lab's story took (not one probed again
// or in the playground).
func (c historyColumn) storyRound() bool {
	return c.phase != steps.PhaseReprobe && c.phase != steps.PhasePlayground
}

// historyLabel shortens a phase to fit a history cell.
func historyLabel(phase string) string {
	if phase == steps.PhaseAffinity {
		return "affinity"
	}
	return phase
}

// historyCellW is the width of one round in the strip; historyLabelW the
// "from US" column's.
const historyCellW, historyLabelW = 11, 9

// historyBox draws every round side by side, labelled by phase, each cell
// a bar split between the answering clusters. When not every round fits,
// the story's rounds stay and the title says how many are shown; where
// there is room, the labels of the rounds probed again follow.
func (p probes) historyBox(st *styles, w, h int) []string {
	inner := w - 4
	cols := historyColumns(p.history)
	title := st.subtitle.Render("History") + st.muted.Render(fmt.Sprintf(" · %d %s", len(cols), plural(len(cols), "round", "rounds")))
	if len(cols) == 0 {
		lines := []string{st.subtitle.Render("History"), ""}
		for _, ln := range wrapMax("Each probe round will appear here, labelled by phase: local only, global, affinity local, failover, back home.", inner, h-4) {
			lines = append(lines, st.muted.Render(ln))
		}
		return st.box(lines, w, h, false)
	}
	room := max(1, (inner-historyLabelW)/historyCellW)
	if len(cols) > room {
		title += st.muted.Render(fmt.Sprintf(" (%d shown: the story first, then the latest)", room))
		cols = pickRounds(cols, room)
	}
	rows := []string{title, padRight("", historyLabelW), padRight("from US", historyLabelW), padRight("", historyLabelW), padRight("from EU", historyLabelW), padRight("", historyLabelW)}
	for _, c := range cols {
		rows[1] += padRight(st.text.Render(ansiTruncate(historyLabel(c.phase), historyCellW-1)), historyCellW)
		for i, r := range c.res {
			bar, counts := st.muted.Render(strings.Repeat(glyphEmpty, historyCellW-2)), ""
			if r != nil {
				bar, counts = st.splitBar(*r, historyCellW-2), fmt.Sprintf("%d·%d", r.Answers.US, r.Answers.EU)
				if r.Errors > 0 {
					counts += st.errs.Render(fmt.Sprintf(" %s%d", glyphErr, r.Errors))
				}
			}
			rows[2+2*i] += padRight(bar, historyCellW)
			rows[3+2*i] += padRight(st.muted.Render(counts), historyCellW)
		}
	}
	if len(rows) < h-2 {
		rows = append(rows, "", st.us.Render(glyphUS)+st.muted.Render(" US  ")+st.eu.Render(glyphEU)+st.muted.Render(" EU  ")+
			st.errs.Render(glyphErr)+st.muted.Render(" failed · from US's busybox above, EU's below"))
	}
	for _, c := range cols {
		if c.label == "" || len(rows) >= h-2 {
			continue
		}
		for _, ln := range wrapMax(c.phase+": "+c.label, inner, h-2-len(rows)) {
			rows = append(rows, st.muted.Render(ln))
		}
	}
	return st.box(rows, w, h, false)
}

// splitBar is a bar of width w split between US and EU answers (and errors).
func (st *styles) splitBar(r cluster.ProbeResult, w int) string {
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
	return st.us.Render(strings.Repeat(glyphUS, us)) + st.eu.Render(strings.Repeat(glyphEU, eu)) + st.errs.Render(strings.Repeat(glyphErr, errs))
}

// pickRounds keeps fit rounds when more were probed: the latest round of
// each phase of the story first, so the picture still tells the whole lab,
// then the most recent other rounds; the order stays chronological.
func pickRounds(cols []historyColumn, fit int) []historyColumn {
	keep := make([]bool, len(cols))
	last := map[string]int{}
	for i, c := range cols {
		if c.storyRound() {
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
