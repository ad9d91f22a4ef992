package tui

import "strings"

// spinMark stands for the spinner in rendered lines: a piece records where
// it is, so a spinner tick replaces one glyph instead of redrawing the piece.
const spinMark = "\uE000"

// spinSlot is a line of a piece that shows the spinner.
type spinSlot struct {
	row           int
	before, after string
}

// piece is a rendered part of the screen: lines of exactly its width, and
// the lines that show the spinner.
type piece struct {
	lines []string
	slots []spinSlot
}

// newPiece takes rendered lines, finds the spinner marks and shows frame there.
func newPiece(lines []string, frame string) piece {
	p := piece{lines: lines}
	for i, ln := range lines {
		if j := strings.Index(ln, spinMark); j >= 0 {
			p.slots = append(p.slots, spinSlot{row: i, before: ln[:j], after: ln[j+len(spinMark):]})
		}
	}
	p.spin(frame)
	return p
}

// spin shows the spinner's frame in the piece's spinner lines.
func (p *piece) spin(frame string) {
	for _, s := range p.slots {
		p.lines[s.row] = s.before + frame + s.after
	}
}

// box frames content in a rounded border with one cell of padding each
// side, as exactly w x h cells: each line is cut (with an ellipsis) or
// padded to the inside width, lines past the inside height are dropped
// (callers that cut say so with a marker of their own).
func (s *styles) box(content []string, w, h int, active bool) []string {
	if w < 4 || h < 2 {
		return blank(w, h)
	}
	bs := s.border
	if active {
		bs = s.borderActive
	}
	edge := bs.Render("│")
	left, right := edge+" ", " "+edge
	bar := strings.Repeat("─", w-2)
	out := make([]string, 0, h)
	out = append(out, bs.Render("╭"+bar+"╮"))
	for i := range h - 2 {
		line := ""
		if i < len(content) {
			line = content[i]
		}
		out = append(out, left+fit(line, w-4)+right)
	}
	return append(out, bs.Render("╰"+bar+"╯"))
}

// blank is an empty piece of w x h cells.
func blank(w, h int) []string {
	out := make([]string, max(0, h))
	row := strings.Repeat(" ", max(0, w))
	for i := range out {
		out[i] = row
	}
	return out
}

// fitLines cuts or pads every line to w cells and the list to h lines.
func fitLines(lines []string, w, h int) []string {
	out := make([]string, h)
	for i := range out {
		ln := ""
		if i < len(lines) {
			ln = lines[i]
		}
		out[i] = fit(ln, w)
	}
	return out
}
