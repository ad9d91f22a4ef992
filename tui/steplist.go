package tui

import (
	"fmt"
	"strings"
)

// stepList shows every panel of the lab with its mark: a column beside the
// step panel on a wide screen, else one line of marks.
type stepList struct {
	w, h   int
	column bool
	labels []string // per panel: "4 Enable Cluster Mesh", "★  Playground"
	nav    nav
	nSteps int
	out    piece
	marks  string // the line of marks, for the tabs
}

// glyph is a panel's mark: done, running (the spinner), failed, torn down
// or pending.
func (st *styles) glyph(k mark) string {
	switch k {
	case markDone:
		return st.ok.Render("✓")
	case markRunning:
		return spinMark
	case markFailed:
		return st.fail.Render("✗")
	case markTorn:
		return st.muted.Render("○")
	}
	return st.muted.Render("·")
}

// renderMarks is the line of marks: one per panel, the cursor's in brackets.
func (s stepList) renderMarks(st *styles) string {
	var b strings.Builder
	for p, pn := range s.nav.panels {
		g := st.glyph(s.nav.marks[p])
		if pn.kind == panelPlayground && s.nav.marks[p] != markDone {
			g = st.accent.Render("★")
		}
		if p == s.nav.cursor {
			b.WriteString(st.keyHint.Render("[") + g + st.keyHint.Render("]"))
		} else {
			b.WriteString(" " + g + " ")
		}
	}
	return b.String() + " "
}

// renderColumn is the sidebar: every panel with its mark and label.
func (s stepList) renderColumn(st *styles) []string {
	lines := []string{st.subtitle.Render("LAB STEPS"), ""}
	done := 0
	for p, pn := range s.nav.panels {
		k := s.nav.marks[p]
		if pn.kind == panelStep && k == markDone {
			done++
		}
		label := s.labels[p]
		cursor := "  "
		switch {
		case p == s.nav.cursor:
			cursor = st.keyHint.Render("▸ ")
			label = st.selected.Render(label)
		case k == markPending || k == markTorn:
			label = st.muted.Render(label)
		}
		lines = append(lines, cursor+st.glyph(k)+" "+label)
	}
	switch {
	case s.nav.tornDown():
		lines = append(lines, "", st.muted.Render("Lab complete; the ○ steps"), st.muted.Render("went with the clusters"))
	default:
		lines = append(lines, "", st.muted.Render(fmt.Sprintf("%d of %d steps done", done, s.nSteps)))
	}
	return st.box(lines, s.w, s.h, false)
}
