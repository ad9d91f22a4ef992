package tui

import (
	"fmt"
	"strings"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// maxLogLines caps each step's scroll-back.
const maxLogLines = 500

// stepPanel is the panel of one step: its title, explanation, equivalent
// commands, log and outcome in a document that scrolls, above the action
// line (what to press, or what runs). It keeps every step's log and outcome
// while the guide runs.
type stepPanel struct {
	w, h  int
	total int // steps in the lab

	// The step shown, and what the lab says of it.
	idx         int
	step        steps.Step
	commands    []steps.Command
	mark        mark
	frontier    bool
	hasNext     bool
	showExplain bool
	// record is the journal's record of the step, for a step done before
	// this session.
	record steps.StepRecord

	// The quiz (quiz.go): the question is up, the quiz is off, the score,
	// the requests a probe sends.
	asking   bool
	quizOff  bool
	score    string
	requests int
	// ownRound is the journal's last round of the step's own run, for a
	// step done before this session.
	ownRound []steps.ProbeRecord

	// What runs on the step shown.
	running  bool // the step itself
	probing  bool // a re-probe of it
	started  time.Time
	now      time.Time
	quitting bool

	// Every step's progress in this session.
	logs     map[int][]steps.LogLine
	results  map[int]outcome
	reprobes map[int][]reprobe

	sc scroller
	// typing is how many cells of the commands the autopilot has typed so
	// far; -1 shows them all.
	typing int

	// The step shown, wrapped at the current width (made in Update, when
	// the step, the width or the log changes).
	explain, cmds, logLines []string

	out piece
}

// outcome is how a step's run ended, and how long it took from the key
// press.
type outcome struct {
	res  steps.Result
	took time.Duration
}

// reprobe is a round probed again on a done step.
type reprobe struct {
	at   time.Time
	recs []steps.ProbeRecord
	err  error
}

func newStepPanel(total int) stepPanel {
	return stepPanel{
		total:       total,
		showExplain: true,
		logs:        map[int][]steps.LogLine{},
		results:     map[int]outcome{},
		reprobes:    map[int][]reprobe{},
		typing:      -1,
	}
}

// innerW is the width inside the border and padding.
func (p *stepPanel) innerW() int { return max(10, p.w-4) }

// show puts step idx in the panel; a new step opens at its top, or at its
// end when it has run in this session.
func (p *stepPanel) show(st *styles, idx int, s steps.Step, cmds []steps.Command, record steps.StepRecord) {
	changed := idx != p.idx || p.step == nil
	p.idx, p.step, p.commands, p.record = idx, s, cmds, record
	if changed {
		_, ran := p.results[idx]
		p.sc = scroller{follow: ran || len(p.logs[idx]) > 0}
		p.rewrap(st)
	}
}

// setSize lays the panel out anew.
func (p *stepPanel) setSize(st *styles, w, h int) {
	if w == p.w && h == p.h {
		return
	}
	p.w, p.h = w, h
	if p.step != nil {
		p.rewrap(st)
	}
}

// rewrap wraps the step shown at the current width.
func (p *stepPanel) rewrap(st *styles) {
	w := p.innerW()
	p.explain = p.explain[:0]
	for _, ln := range wrap(p.step.Explain(), w) {
		p.explain = append(p.explain, st.text.Render(ln))
	}
	p.cmds = st.commandLines(p.commands, w)
	p.logLines = p.logLines[:0]
	for _, l := range p.logs[p.idx] {
		p.logLines = append(p.logLines, st.logLine(l, w)...)
	}
}

// stepStarted clears step i's log and outcome as it runs again.
func (p *stepPanel) stepStarted(i int) {
	delete(p.logs, i)
	delete(p.results, i)
	if i == p.idx {
		p.sc.follow = true
		p.logLines = p.logLines[:0]
	}
}

// appendLogs adds lines to step i's log, keeping the last maxLogLines.
func (p *stepPanel) appendLogs(st *styles, i int, lines []steps.LogLine) {
	all := append(p.logs[i], lines...)
	if over := len(all) - maxLogLines; over > 0 {
		all = append(all[:0:0], all[over:]...)
		p.logs[i] = all
		if i == p.idx {
			p.rewrap(st)
		}
		return
	}
	p.logs[i] = all
	if i == p.idx {
		for _, l := range lines {
			p.logLines = append(p.logLines, st.logLine(l, p.innerW())...)
		}
	}
}

// scroll moves the document's window.
func (p *stepPanel) scroll(st *styles, delta int) {
	p.sc = p.sc.scroll(delta, len(p.document(st)), docRows(p.h))
}

// page is a window's height less one line of overlap.
func (p *stepPanel) page() int { return max(1, docRows(p.h)-1) }

func (p stepPanel) render(st *styles) []string {
	return st.docPanel(p.title(st), p.document(st), p.action(st), p.sc, p.w, p.h)
}

// title is "Step 4 of 11  Enable Cluster Mesh in both clusters" with the
// step's mark on the right.
func (p stepPanel) title(st *styles) string {
	w := p.innerW()
	left := fit(st.subtitle.Render(fmt.Sprintf("Step %d of %d", p.idx+1, p.total))+"  "+st.title.Render(p.step.Title()), w-2)
	return left + " " + st.glyph(p.mark)
}

// document is what scrolls: the explanation, the commands, the log and
// the outcome, in the order they happen.
func (p stepPanel) document(st *styles) []string {
	outcome := p.outcomeLines(st)
	doc := make([]string, 0, len(p.explain)+len(p.cmds)+len(p.logLines)+len(outcome)+3)
	if p.showExplain {
		doc = append(doc, p.explain...)
		doc = append(doc, "")
	}
	doc = append(doc, typed(p.cmds, p.typing)...)
	if len(p.logLines) > 0 {
		doc = append(doc, "")
		doc = append(doc, p.logLines...)
	}
	if len(outcome) > 0 {
		doc = append(doc, "")
		doc = append(doc, outcome...)
	}
	if p.asking {
		doc = append(doc, p.questionLines(st)...)
	}
	return doc
}

// typeTotal is the width of the commands in cells: what the autopilot
// types.
func (p stepPanel) typeTotal() int {
	n := 0
	for _, ln := range p.cmds {
		n += width(ln)
	}
	return n
}

// typed is lines as typed so far: the first n cells, a cursor after them;
// n < 0 is all of them.
func typed(lines []string, n int) []string {
	if n < 0 {
		return lines
	}
	out := make([]string, 0, len(lines))
	for _, ln := range lines {
		w := width(ln)
		if n < w {
			return append(out, ansi.Truncate(ln, n, "")+"▌")
		}
		out = append(out, ln)
		n -= w
	}
	return out
}

// outcomeLines say how the step ended: what happened and what it means, or
// the error and what to do next; then the rounds probed again since.
func (p stepPanel) outcomeLines(st *styles) []string {
	w := p.innerW()
	var out []string
	add := func(text string, style func(...string) string) {
		for _, ln := range wrap(text, w) {
			out = append(out, style(ln))
		}
	}
	r, ok := p.results[p.idx]
	switch {
	case p.running:
	case ok && r.res.Err != nil:
		add(r.res.Err.Error(), st.fail.Render)
		if h := cluster.HintOf(r.res.Err); h != "" {
			add("What to do: "+h, st.keyHint.Render)
		}
		// A round judged wrong was still probed: the learner's answer
		// stands beside what Cilium did, the reason to look closer.
		out = append(out, p.quizLines(st, r.res.Probes)...)
	case ok:
		add(r.res.Summary, st.text.Render)
		out = append(out, p.quizLines(st, r.res.Probes)...)
		for _, wn := range r.res.Warnings {
			add("! "+wn, st.warn.Render)
		}
	case p.mark == markDone && p.record.Summary != "":
		add(fmt.Sprintf("When it ran (%s): %s", p.record.Finished.Local().Format("Jan 2 15:04"), p.record.Summary), st.text.Render)
		out = append(out, p.quizLines(st, p.ownRound)...)
	case p.mark == markTorn && p.record.Summary != "":
		add(fmt.Sprintf("Before the teardown (%s): %s", p.record.Finished.Local().Format("Jan 2 15:04"), p.record.Summary), st.muted.Render)
		out = append(out, p.quizLines(st, p.ownRound)...)
	}
	for _, rd := range p.reprobes[p.idx] {
		out = append(out, "")
		if len(rd.recs) == 0 {
			add(fmt.Sprintf("↻ Re-probe at %s failed: %v", rd.at.Local().Format("15:04:05"), rd.err), st.fail.Render)
			continue
		}
		add(fmt.Sprintf("↻ Re-probe at %s · %s", rd.at.Local().Format("15:04:05"), rd.recs[0].Label), st.accent.Render)
		for _, rec := range rd.recs {
			add(fmt.Sprintf("  from %s: %s", rec.Result.From.Label(), steps.DescribeProbe(rec.Result)), st.text.Render)
		}
		out = append(out, p.quizLines(st, rd.recs)...)
	}
	return append(out, p.scoreLines(st)...)
}

// action says what runs, or what to press.
func (p stepPanel) action(st *styles) string {
	elapsed := st.muted.Render(round(p.now.Sub(p.started)))
	r, ran := p.results[p.idx]
	switch {
	case p.asking:
		return p.quizAction(st)
	case p.running:
		line := spinMark + st.running.Render(" Running… ") + elapsed
		if p.quitting {
			line += st.warn.Render("  · quitting when it ends")
		}
		return line
	case p.probing:
		return spinMark + st.running.Render(" Probing again… ") + elapsed
	case p.typing >= 0:
		return st.running.Render("▶ The autopilot types the commands, then runs this step")
	case p.mark == markFailed:
		return st.fail.Render("✗ Failed") + st.muted.Render(" after "+round(r.took)) + st.keyHint.Render("   enter retries")
	case p.mark == markDone:
		line := st.ok.Render("✓ Done")
		if ran && !r.res.Skipped {
			line += st.muted.Render(" in " + round(r.took))
		} else {
			line += st.muted.Render(" (its check passes on the live state)")
		}
		if p.step.Phase() != "" {
			line += st.keyHint.Render("   p probes again")
		}
		if p.hasNext {
			line += st.keyHint.Render("   → next")
		}
		return line
	case p.mark == markTorn:
		return st.muted.Render("○ Ran before the teardown: its clusters are gone")
	case p.frontier:
		return st.keyHint.Render("▶ Press enter to run this step")
	}
	return st.muted.Render("Run the steps before this one first.")
}

// commandLines shows the seed's manual commands, grouped by terminal. A
// line too long for the panel wraps, its continuation marked with ↪ (not a
// shell continuation: c copies the commands as they are).
func (st *styles) commandLines(cmds []steps.Command, w int) []string {
	out := []string{st.muted.Render("Equivalent commands  (c copies them)")}
	for _, c := range cmds {
		out = append(out, st.where.Render("  # "+c.Where))
		for i, ln := range c.Lines {
			prompt := "$ "
			if i > 0 && strings.HasSuffix(c.Lines[i-1], "\\") {
				prompt = "  "
			}
			text := strings.TrimLeft(ln, " ")
			indent := strings.Repeat(" ", len(ln)-len(text))
			for j, seg := range wrap(text, max(10, w-4-len(indent))) {
				lead := "  " + st.prompt.Render(prompt)
				if j > 0 {
					lead = "  " + st.muted.Render("↪ ")
				}
				out = append(out, lead+indent+st.command.Render(seg))
			}
		}
	}
	return out
}

// logLine tags a log line with its cluster's colour, wrapping long lines
// under their text.
func (st *styles) logLine(l steps.LogLine, w int) []string {
	tag := "     "
	if l.Cluster != "" {
		tag = st.cluster(l.Cluster).Render(fmt.Sprintf("[%s] ", l.Cluster))
	}
	text := stripEmoji(l.Text)
	if width(text) <= w-5 {
		return []string{tag + text} // as the backend wrote it, aligned columns and all
	}
	lines := wrap(text, max(10, w-5))
	for i := range lines {
		if i == 0 {
			lines[i] = tag + lines[i]
		} else {
			lines[i] = "     " + lines[i]
		}
	}
	return lines
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

// round shows a duration as 4.2s, or 1m5s from a minute on.
func round(d time.Duration) string {
	d = max(0, d)
	if d >= time.Minute {
		return d.Round(time.Second).String()
	}
	return fmt.Sprintf("%.1fs", d.Seconds())
}
