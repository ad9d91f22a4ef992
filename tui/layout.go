package tui

import "strings"

// Sizes of the layout. Below the minimum the guide asks for more room; from
// the dashboard size on, everything is on one screen; in between, the step
// panel comes first and the status panes and the probes are a key away.
const (
	minWidth, minHeight   = 80, 24
	dashWidth, dashHeight = 120, 40
	// sidebarFrom is the width from which the list of steps has a column.
	sidebarFrom  = 130
	sidebarWidth = 30
	// paneRows is a status pane's content (a title and 8 rows: the mesh
	// takes two, the peer link and the agents); probeRows the chart's.
	paneRows  = 8
	probeRows = 6
	// maxFooterRows caps a wrapped footer message.
	maxFooterRows = 3
)

// mode is how the screen is divided.
type mode int

const (
	modeSmall     mode = iota // below the minimum: a message asks for more room
	modeCompact               // one column, the views a key away
	modeDashboard             // everything on one screen
)

// view is what the compact mode shows under its tabs.
type view int

const (
	viewStep view = iota
	viewClusters
	viewProbes
	viewFlows
	nViews
)

// viewNames are the tabs, in key order (1, 2, 3, 4).
var viewNames = [nViews]string{"Step", "Clusters", "Probes", "Flows"}

// layout is how the screen is divided at the current size.
type layout struct {
	w, h    int
	mode    mode
	sidebar bool
	footerH int
	// The body: the rows between the header (and the marks or tabs line)
	// and the footer.
	bodyH int
	// Dashboard: the step panel (with the sidebar) above the panes and
	// the probes; compact: the view fills the body.
	sidebarW, mainW     int
	topH, panesH, probH int
	chartW              int
}

func computeLayout(w, h, footerH int) layout {
	l := layout{w: w, h: h, footerH: footerH}
	switch {
	case w < minWidth || h < minHeight:
		l.mode = modeSmall
		return l
	case w >= dashWidth && h >= dashHeight:
		l.mode = modeDashboard
	default:
		l.mode = modeCompact
	}
	l.bodyH = h - 2 - footerH // header, and the marks line or the tabs
	l.mainW = w
	l.panesH, l.probH = paneRows+2, probeRows+2
	l.chartW = max(44, min(64, w*2/5))
	if l.mode == modeDashboard {
		l.sidebar = w >= sidebarFrom
		if l.sidebar {
			l.sidebarW = sidebarWidth
			l.mainW = w - sidebarWidth
			l.bodyH++ // no marks line
		}
		l.topH = l.bodyH - l.panesH - l.probH
	}
	return l
}

// frame assembles the screen from the pieces' cached lines; it only joins
// strings.
func (m *Model) frame() string {
	l := m.lay
	switch {
	case m.w == 0:
		return ""
	case l.mode == modeSmall:
		return strings.Join(m.small, "\n")
	}
	var b strings.Builder
	b.Grow(m.w * m.h * 3)
	row := func(parts ...string) {
		if b.Len() > 0 {
			b.WriteByte('\n')
		}
		for _, p := range parts {
			b.WriteString(p)
		}
	}
	rows := func(lines []string) {
		for _, ln := range lines {
			row(ln)
		}
	}
	row(m.header.out)
	switch {
	case m.showHelp && m.phase != phaseLab:
		rows(m.helpOut)
	case m.phase != phaseLab:
		rows(m.welcome.out.lines)
	case l.mode == modeDashboard:
		if !l.sidebar {
			row(m.list.out.lines[0])
		}
		main := m.mainPiece()
		for i, ln := range main {
			if l.sidebar {
				row(m.list.out.lines[i], ln)
			} else {
				row(ln)
			}
		}
		rows(m.panes.out)
		rows(m.probes.out.lines)
	default:
		row(m.tabs.out.lines[0])
		switch {
		case m.showHelp:
			rows(m.helpOut)
		case m.view == viewClusters:
			rows(m.panes.out)
		case m.view == viewProbes:
			rows(m.probes.out.lines)
		case m.view == viewFlows:
			rows(m.flowsOut.lines)
		default:
			rows(m.mainPiece())
		}
	}
	rows(m.footer.out)
	return b.String()
}
