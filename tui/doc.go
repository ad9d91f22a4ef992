package tui

import "fmt"

// scroller is the position of a window over a document: the first line
// shown, or the end, followed as lines arrive.
type scroller struct {
	off    int
	follow bool
}

// window returns the first line to show of a document of total lines in h
// rows.
func (s scroller) window(total, h int) int {
	last := max(0, total-h)
	if s.follow {
		return last
	}
	return min(s.off, last)
}

// Scroll distances to the top and to the end of any document.
const (
	toTop = -1 << 30
	toEnd = 1 << 30
)

// scroll moves the window by delta lines; reaching the end follows it again.
func (s scroller) scroll(delta, total, h int) scroller {
	last := max(0, total-h)
	s.off = min(max(0, s.window(total, h)+delta), last)
	s.follow = s.off >= last
	return s
}

// docPanel draws a bordered panel: a title line, a document in a window
// that scrolls, with a marker above and below wherever lines are cut, and
// an action line pinned at the bottom so what to press is always on screen.
func (st *styles) docPanel(title string, doc []string, action string, sc scroller, w, h int) []string {
	ih := h - 2
	docH := docRows(h)
	off := sc.window(len(doc), docH)
	end := min(len(doc), off+docH)
	lines := make([]string, 0, ih)
	lines = append(lines, title)
	if off > 0 {
		lines = append(lines, st.muted.Render(fmt.Sprintf("▲ %d more %s above · ↑/k pgup", off, plural(off, "line", "lines"))))
	} else {
		lines = append(lines, "")
	}
	lines = append(lines, doc[off:end]...)
	for len(lines) < 2+docH {
		lines = append(lines, "")
	}
	if below := len(doc) - end; below > 0 {
		lines = append(lines, st.muted.Render(fmt.Sprintf("▼ %d more %s below · ↓/j pgdn", below, plural(below, "line", "lines"))))
	} else {
		lines = append(lines, "")
	}
	lines = append(lines, action)
	return st.box(lines, w, h, true)
}

// docRows is the document's window in a panel h rows high: the border,
// the title, the two marker lines and the action line take the rest.
func docRows(h int) int { return max(1, h-6) }
