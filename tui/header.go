package tui

import (
	"fmt"
	"strings"
)

// header is the top line: the lab's name, where the learner is and the
// backend badge.
type header struct {
	w        int
	position string // "Step 4 of 11", "Playground", "" before the lab
	sim      bool
	real     bool
	seed     uint64
	out      string
}

func (h header) render(st *styles) string {
	left := st.title.Render(" clustermesh-lab")
	long := left + st.muted.Render("  ·  Multi-cluster networking with Cilium Cluster Mesh")
	var badges []string
	switch {
	case h.sim:
		badges = []string{
			st.simBadge.Render(fmt.Sprintf("◆ SIMULATED MESH · seed %d", h.seed)),
			st.simBadge.Render("◆ SIMULATED"),
		}
	case h.real:
		badges = []string{st.realBadge.Render("● KIND CLUSTERS"), st.realBadge.Render("● KIND")}
	default:
		badges = []string{""}
	}
	pos := ""
	if h.position != "" {
		pos = st.muted.Render(h.position) + " "
	}
	// The longest form that fits: the subtitle goes first, then the
	// badge's detail.
	for _, l := range []string{long, left} {
		for _, badge := range badges {
			right := pos + badge
			if gap := h.w - width(l) - width(right); gap >= 1 {
				return l + strings.Repeat(" ", gap) + right
			}
		}
	}
	return fit(left+" "+pos+badges[len(badges)-1], h.w)
}

// tabs is the compact mode's line under the header: the views, with the
// key of each, and a mark for each panel of the lab.
type tabs struct {
	w      int
	active view
	// fresh marks a view with news the learner has not seen (a probe
	// round finished while another view was shown).
	fresh [nViews]bool
	marks string // the steps' marks, rendered by the step list
	out   piece
}

func (t tabs) render(st *styles) string {
	left := t.views(st, false)
	if t.marks == "" {
		return fit(left, t.w)
	}
	if t.w-width(left)-width(t.marks) < 1 {
		left = t.views(st, true)
	}
	gap := t.w - width(left) - width(t.marks)
	if gap < 1 {
		return fit(left, t.w)
	}
	return left + strings.Repeat(" ", gap) + t.marks
}

// views renders the views' tabs; tight drops their padding and puts the
// news dot against the name, for 80 columns: four tabs and the marks of
// thirteen panels do not fit with it.
func (t tabs) views(st *styles, tight bool) string {
	var b strings.Builder
	b.WriteString(" ")
	for v := range nViews {
		label := fmt.Sprintf("%d %s", v+1, viewNames[v])
		switch {
		case t.fresh[v] && tight:
			label += "●"
		case t.fresh[v]:
			label += " ●"
		}
		switch {
		case v == t.active:
			b.WriteString(st.tabActive.Render("[" + label + "]"))
		case tight:
			b.WriteString(st.tab.Render(label))
		default:
			b.WriteString(st.tab.Render(" " + label + " "))
		}
		if !tight || v < nViews-1 {
			b.WriteString(" ")
		}
	}
	return b.String()
}
