package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Text helpers: every piece of the screen is a slice of lines, each exactly
// as wide as its piece, so View only concatenates them.

// ellipsis marks text cut to fit.
const ellipsis = "…"

// width is the printed width of a possibly styled string.
func width(s string) int { return ansi.StringWidth(s) }

// fit cuts a possibly styled line to w cells, with an ellipsis where it
// cuts, and pads it with spaces to exactly w cells.
func fit(s string, w int) string {
	if w <= 0 {
		return ""
	}
	n := width(s)
	if n > w {
		s = ansi.Truncate(s, w, ellipsis)
		n = width(s)
	}
	if n < w {
		s += strings.Repeat(" ", w-n)
	}
	return s
}

// padRight pads a possibly styled string to w cells without cutting it.
func padRight(s string, w int) string {
	if n := width(s); n < w {
		return s + strings.Repeat(" ", w-n)
	}
	return s
}

// wrap breaks plain text into lines of at most w cells at spaces; a word
// longer than a line is broken where the line ends.
func wrap(text string, w int) []string {
	if w < 1 {
		w = 1
	}
	var lines []string
	var cur strings.Builder
	curW := 0
	flush := func() {
		if cur.Len() > 0 {
			lines = append(lines, cur.String())
			cur.Reset()
			curW = 0
		}
	}
	for _, word := range strings.Fields(text) {
		ww := width(word)
		if curW > 0 && curW+1+ww > w {
			flush()
		}
		for ww > w { // a word wider than a line: break it where lines end
			lines = append(lines, ansi.Cut(word, 0, w))
			word = ansi.Cut(word, w, ww)
			ww = width(word)
		}
		if ww == 0 {
			continue
		}
		if curW > 0 {
			cur.WriteByte(' ')
			curW++
		}
		cur.WriteString(word)
		curW += ww
	}
	flush()
	return lines
}

// wrapMax wraps text to w cells on at most n lines; when it needs more, the
// last line ends with an ellipsis after its last whole word, so a message
// is never cut mid-word.
func wrapMax(text string, w, n int) []string {
	lines := wrap(text, w)
	if len(lines) <= n {
		return lines
	}
	lines = lines[:n]
	last := lines[n-1]
	for width(last)+1 > w {
		i := strings.LastIndexByte(last, ' ')
		if i < 0 {
			last = ansi.Truncate(last, w-1, "")
			break
		}
		last = last[:i]
	}
	lines[n-1] = last + ellipsis
	return lines
}

// ansiStrip drops the styles of a string, to wrap its text again.
func ansiStrip(s string) string { return ansi.Strip(s) }

// plural picks the singular for 1: "1 probe", "2 probes".
func plural(n int, one, many string) string { return steps.Plural(n, one, many) }

// ansiTruncate cuts a string to w cells with an ellipsis.
func ansiTruncate(s string, w int) string { return ansi.Truncate(s, w, ellipsis) }
