package tui

import (
	"fmt"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// playground is the panel after the scripted steps where the learner
// changes hello-world in either cluster and probes again: both clusters'
// settings side by side, what Cilium's load balancer does with them, the
// equivalent commands and the log of the changes.
type playground struct {
	w, h int
	sel  cluster.Name
	st   [2]cluster.Status

	action  string // the change or probe that runs
	started time.Time
	now     time.Time
	last    []steps.ProbeRecord // the latest playground probe
	lastErr error

	logs     []steps.LogLine
	logLines []string
	sc       scroller
	out      piece
}

const playgroundIntro = "Change hello-world in either cluster and probe again (p) to see the chart move. " +
	"Changes apply at once, as kubectl annotate and kubectl scale would."

func newPlayground() playground { return playground{sel: cluster.US} }

func (g *playground) innerW() int { return max(10, g.w-4) }

func (g *playground) setSize(st *styles, w, h int) {
	if w == g.w && h == g.h {
		return
	}
	g.w, g.h = w, h
	g.logLines = g.logLines[:0]
	for _, l := range g.logs {
		g.logLines = append(g.logLines, st.logLine(l, g.innerW())...)
	}
}

// appendLogs adds the lines of a change or probe to the playground's log,
// at the end of its document: the window stays on the settings.
func (g *playground) appendLogs(st *styles, lines []steps.LogLine) {
	g.logs = append(g.logs, lines...)
	if over := len(g.logs) - maxLogLines; over > 0 {
		g.logs = append(g.logs[:0:0], g.logs[over:]...)
		g.logLines = g.logLines[:0]
		lines = g.logs
	}
	for _, l := range lines {
		g.logLines = append(g.logLines, st.logLine(l, g.innerW())...)
	}
}

func (g *playground) scroll(st *styles, delta int) {
	g.sc = g.sc.scroll(delta, len(g.document(st)), docRows(g.h))
}

func (g playground) render(st *styles) []string {
	title := st.subtitle.Render("Playground") + "  " + st.title.Render("Ask the mesh your own what-if questions")
	return st.docPanel(title, g.document(st), g.actionLine(st), g.sc, g.w, g.h)
}

// document is the settings table, what the load balancer does with them,
// the commands and the log.
func (g playground) document(st *styles) []string {
	w := g.innerW()
	var doc []string
	for _, ln := range wrap(playgroundIntro, w) {
		doc = append(doc, st.text.Render(ln))
	}
	doc = append(doc, "")
	const labelW, colW = 16, 28
	head := padRight(st.muted.Render("tab switches"), labelW)
	for _, c := range cluster.Names() {
		name := st.cluster(c).Bold(true).Render(c.Label())
		if c == g.sel {
			name = st.keyHint.Render("▸ ") + name
		} else {
			name = "  " + name
		}
		head += padRight(name, colW)
	}
	doc = append(doc, head)
	rows := []struct {
		label string
		value func(st cluster.Status) string
	}{
		{"global      g", func(st cluster.Status) string { return fmt.Sprint(st.Demo.Service.Global) }},
		{"shared      s", func(st cluster.Status) string { return fmt.Sprint(st.Demo.Service.Shared) }},
		{"affinity    a", func(st cluster.Status) string { return string(st.Demo.Service.Affinity) }},
		{"replicas  +/-", func(st cluster.Status) string {
			return fmt.Sprintf("%d (%d ready)", st.Demo.HelloWorld.Desired, st.Demo.HelloWorld.Ready)
		}},
	}
	for _, r := range rows {
		line := st.muted.Render(padRight(r.label, labelW))
		for _, c := range cluster.Names() {
			line += padRight("  "+st.text.Render(r.value(g.st[c.Index()])), colW)
		}
		doc = append(doc, line)
	}
	doc = append(doc, "", st.muted.Render("What Cilium's load balancer does now"))
	for _, from := range cluster.Names() {
		local, remote := g.st[from.Index()], g.st[from.Peer().Index()]
		why := cluster.Describe(from, cluster.SideOf(local), cluster.SideOf(remote), cluster.ConnectedOf(local))
		for i, ln := range wrap(why, w-10) {
			prefix := padRight("", 10)
			if i == 0 {
				prefix = padRight(st.cluster(from).Render("from "+from.Label()), 10)
			}
			doc = append(doc, prefix+ln)
		}
	}
	if len(g.last) > 0 {
		doc = append(doc, "")
		for _, ln := range wrap("Latest probe · "+g.last[0].Label, w) {
			doc = append(doc, st.accent.Render(ln))
		}
		for _, rec := range g.last {
			doc = append(doc, st.text.Render(fmt.Sprintf("  from %s: %s", rec.Result.From.Label(), steps.DescribeProbe(rec.Result))))
		}
	}
	doc = append(doc, "")
	doc = append(doc, st.commandLines(steps.PlaygroundCommands(g.st), w)...)
	if len(g.logLines) > 0 {
		doc = append(doc, "")
		doc = append(doc, g.logLines...)
	}
	return doc
}

// actionLine says what runs, what the last probe found, or what to do.
func (g playground) actionLine(st *styles) string {
	switch {
	case g.action != "":
		return spinMark + st.running.Render(" "+g.action+"… ") + st.muted.Render(round(g.now.Sub(g.started)))
	case g.lastErr != nil:
		return st.fail.Render("✗ " + g.lastErr.Error())
	case len(g.last) > 0:
		line := st.accent.Render("↻ Latest probe")
		for _, rec := range g.last {
			line += st.muted.Render(" · ") + st.text.Render(fmt.Sprintf("from %s: %s", rec.Result.From.Label(), steps.DescribeProbe(rec.Result)))
		}
		return line
	}
	return st.keyHint.Render("▶ Change a setting, then p probes both clusters")
}
