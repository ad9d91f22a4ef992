package tui

import (
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// flashFor is how long a footer message stays when no key is pressed.
const flashFor = 4 * time.Second

// flashDoneMsg ends the footer message it was scheduled for.
type flashDoneMsg struct{ id int }

// footer is the bottom of the screen: the quit prompt, what the guide is
// waiting for before it quits, a short message, or the keys.
type footer struct {
	w       int
	prompt  string // a question waiting for y or n
	status  string // a lasting state, such as a pending quit
	flash   string
	flashID int
	keys    []key.Binding
	out     []string
}

// say shows a message until the next key or for d, whichever comes first;
// the returned command ends it.
func (f *footer) say(msg string, d time.Duration) tea.Cmd {
	f.flash = msg
	f.flashID++
	id := f.flashID
	return tea.Tick(d, func(time.Time) tea.Msg { return flashDoneMsg{id: id} })
}

// expire ends the message msg was scheduled for, if it still shows.
func (f *footer) expire(msg flashDoneMsg) bool {
	if msg.id != f.flashID || f.flash == "" {
		return false
	}
	f.flash = ""
	return true
}

// clear ends the message on a key press.
func (f *footer) clear() bool {
	if f.flash == "" {
		return false
	}
	f.flash = ""
	return true
}

// render wraps messages at words over up to maxFooterRows lines, so they
// are never cut mid-word.
func (f footer) render(st *styles) []string {
	msg := func(text string, style func(...string) string) []string {
		lines := wrapMax(text, f.w-1, maxFooterRows)
		for i, ln := range lines {
			lines[i] = fit(" "+style(ln), f.w)
		}
		return lines
	}
	switch {
	case f.prompt != "":
		return msg(f.prompt, st.warn.Bold(true).Render)
	case f.flash != "":
		return msg(f.flash, st.accent.Render)
	case f.status != "":
		return msg(f.status, st.warn.Render)
	}
	return []string{st.shortHelp(f.keys, f.w)}
}
