package tui

import (
	"fmt"
	"strings"

	"charm.land/lipgloss/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// welcome is the first screen: what the lab does, and where the clusters
// will run.
type welcome struct {
	w, h      int
	titles    []string // the steps' titles
	shorts    []string // and short titles, for a small screen
	choice    string
	fixed     bool
	engine    string
	engineErr error
	detecting bool
	opening   bool
	openErr   error
	out       piece
}

const welcomeIntro = "Two Kubernetes clusters, US and EU, joined by Cilium Cluster Mesh. Each step explains itself, " +
	"shows the kind / cilium / kubectl commands you would type, runs them for you, and charts which cluster answered."

// render centres the welcome box. On a small screen the steps are listed
// in two columns by their short titles and the box loses its padding; on a
// very small one the introduction goes too.
func (v welcome) render(st *styles) []string {
	w := min(96, v.w-4)
	for _, fit := range []struct {
		padY, padX    int
		compact, tiny bool
	}{{1, 3, false, false}, {0, 1, true, false}, {0, 1, true, true}} {
		body := v.body(st, w-2-2*fit.padX, fit.compact, fit.tiny)
		if len(body)+2+2*fit.padY > v.h && !fit.tiny {
			continue
		}
		box := lipgloss.NewStyle().Border(lipgloss.RoundedBorder()).BorderForeground(colorAccent).
			Padding(fit.padY, fit.padX).Render(strings.Join(body, "\n"))
		placed := lipgloss.Place(v.w, v.h, lipgloss.Center, lipgloss.Center, box)
		return fitLines(strings.Split(placed, "\n"), v.w, v.h)
	}
	return nil
}

func (v welcome) body(st *styles, w int, compact, tiny bool) []string {
	lines := []string{st.subtitle.Render("Multi-cluster networking with Cilium Cluster Mesh")}
	if !compact {
		lines = append(lines, "")
	}
	if !tiny {
		for _, ln := range wrap(welcomeIntro, w) {
			lines = append(lines, st.text.Render(ln))
		}
	}
	lines = append(lines, "", st.title.Render("What you will do"))
	if compact {
		half := (len(v.shorts) + 1) / 2
		colW := w / 2
		for i := range half {
			row := padRight(fmt.Sprintf("  %s %s", st.muted.Render(fmt.Sprintf("%2d", i+1)), v.shorts[i]), colW)
			if j := i + half; j < len(v.shorts) {
				row += fmt.Sprintf("%s %s", st.muted.Render(fmt.Sprintf("%2d", j+1)), v.shorts[j])
			}
			lines = append(lines, row)
		}
	} else {
		for i, t := range v.titles {
			lines = append(lines, fmt.Sprintf("  %s %s", st.muted.Render(fmt.Sprintf("%2d", i+1)), t))
		}
	}
	lines = append(lines, "", st.title.Render("Where the clusters run"))
	engine := "Docker or Podman: "
	switch {
	case v.detecting:
		engine += spinMark + " looking for an engine…"
	case v.engineErr != nil:
		engine += st.warn.Render("none answers") + st.muted.Render(" (clustermesh-lab doctor tells why)")
	case v.engine == "":
		engine += st.muted.Render("not looked for (--backend chose)")
	default:
		engine += st.ok.Render(v.engine + " answers")
	}
	lines = append(lines, v.option(st, backendKind, "Real kind clusters", engine, w)...)
	lines = append(lines, v.option(st, backendSim, "Simulated mesh", "no Docker needed; behaves as Cilium does, seeded and replayable", w)...)
	lines = append(lines, "")
	switch {
	case v.opening:
		lines = append(lines, spinMark+st.running.Render(" Opening the lab and reading the live state…"))
	case v.openErr != nil:
		for _, ln := range wrap("Could not open the lab: "+v.openErr.Error(), w) {
			lines = append(lines, st.fail.Render(ln))
		}
		if h := cluster.HintOf(v.openErr); h != "" {
			for _, ln := range wrap("What to do: "+h, w) {
				lines = append(lines, st.keyHint.Render(ln))
			}
		}
		lines = append(lines, st.muted.Render("enter tries again"))
	default:
		lines = append(lines, st.keyHint.Render("enter")+st.muted.Render(" starts the lab · ")+st.keyHint.Render("↑/↓")+st.muted.Render(" chooses · ")+st.keyHint.Render("q")+st.muted.Render(" quits"))
	}
	for i, ln := range lines {
		if width(ln) > w {
			lines[i] = fit(ln, w)
		}
	}
	return lines
}

// option is one backend choice with its radio mark; its detail goes on the
// lines below when it does not fit beside.
func (v welcome) option(st *styles, kind, name, detail string, w int) []string {
	mark, style, cursor := "○", st.muted, "  "
	if v.choice == kind {
		mark, style, cursor = "●", st.selected, st.keyHint.Render("▸ ")
	}
	if kind == backendSim {
		name += " " + st.simBadge.Render("SIMULATED")
	}
	head := cursor + style.Render(mark+" ") + padRight(style.Render(name), 20)
	if width(head)+2+width(detail) <= w {
		return []string{head + "  " + detail}
	}
	out := []string{head}
	if width(detail) <= w-6 {
		return append(out, "      "+detail)
	}
	for _, ln := range wrap(ansiStrip(detail), w-6) {
		out = append(out, "      "+st.muted.Render(ln))
	}
	return out
}
