package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
)

// keyMap lists every key of the guide, in one place; helpKeys turns it into
// the short and the full help for the current context.
type keyMap struct {
	Next, Prev, Run, Probe, Explain key.Binding
	ScrollUp, ScrollDown            key.Binding
	PageUp, PageDown, Top, Bottom   key.Binding
	Views, NextView                 key.Binding
	Copy, Help, Quit                key.Binding
	Choose, Start                   key.Binding
	Cluster, Global, Shared         key.Binding
	Affinity, More, Fewer, Replicas key.Binding
	Yes, No                         key.Binding
	Answer, Skip                    key.Binding
	Pause                           key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Next:       b([]string{"right", "l", "n"}, "→/l", "next"),
		Prev:       b([]string{"left", "h", "b"}, "←/h", "back"),
		Run:        b([]string{"enter"}, "enter", "run"),
		Probe:      b([]string{"p"}, "p", "probe again"),
		Explain:    b([]string{"e"}, "e", "explanation"),
		ScrollUp:   b([]string{"up", "k"}, "↑/k", "scroll up"),
		ScrollDown: b([]string{"down", "j"}, "↓/j", "scroll"),
		PageUp:     b([]string{"pgup"}, "pgup", "page up"),
		PageDown:   b([]string{"pgdown"}, "pgdn", "page down"),
		Top:        b([]string{"home"}, "home", "top"),
		Bottom:     b([]string{"end"}, "end", "end"),
		Views:      b([]string{"1", "2", "3", "4"}, "1-4", "views"),
		NextView:   b([]string{"v"}, "v", "next view"),
		Copy:       b([]string{"c"}, "c", "copy"),
		Help:       b([]string{"?"}, "?", "keys"),
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),
		Choose:     b([]string{"up", "down", "k", "j", "tab"}, "↑/↓", "choose"),
		Start:      b([]string{"enter"}, "enter", "start"),
		Cluster:    b([]string{"tab"}, "tab", "US/EU"),
		Global:     b([]string{"g"}, "g", "global"),
		Shared:     b([]string{"s"}, "s", "shared"),
		Affinity:   b([]string{"a"}, "a", "affinity"),
		More:       b([]string{"+", "="}, "+", "replica"),
		Fewer:      b([]string{"-"}, "-", "replica"),
		Replicas:   b([]string{"+", "=", "-"}, "+/-", "replicas"),
		Yes:        b([]string{"y", "Y"}, "y", "yes"),
		No:         b([]string{"n", "N", "esc"}, "n", "no"),
		Answer:     b([]string{"1", "2", "3", "4", "5", "6"}, "1-6", "answer the quiz"),
		Skip:       b([]string{"enter", "esc"}, "enter", "skip the quiz"),
		Pause:      b([]string{"space"}, "space", "autopilot"),
	}
}

// helpKeys is the key map in one context of the guide.
type helpKeys struct {
	k          keyMap
	welcome    bool
	playground bool
	compact    bool
	// panel is set when the step panel (or the playground) shows, so its
	// scrolling keys apply.
	panel bool
	// asking is set while the quiz's question is up: only its keys apply.
	asking bool
}

// ShortHelp is the footer's help, most useful first: when the line is too
// narrow, bindings are dropped from the end, but never ? and q. The
// playground's own keys are in its table.
func (h helpKeys) ShortHelp() []key.Binding {
	k := h.k
	if h.welcome {
		return []key.Binding{k.Choose, k.Start, k.Help, k.Quit}
	}
	if h.asking {
		return []key.Binding{k.Answer, k.Skip, k.Help, k.Quit}
	}
	b := []key.Binding{k.Run, k.Next, k.Prev}
	if h.playground {
		b = []key.Binding{k.Probe, k.Cluster, k.Next, k.Prev}
	}
	if h.compact {
		b = append(b, k.Views)
	}
	if h.panel {
		b = append(b, k.ScrollDown)
	}
	if !h.playground {
		b = append(b, k.Probe, k.Explain)
	}
	return append(b, k.Copy, k.Help, k.Quit)
}

// FullHelp is the help shown with ?.
func (h helpKeys) FullHelp() [][]key.Binding {
	k := h.k
	return [][]key.Binding{
		{k.Run, k.Next, k.Prev, k.Probe, k.Explain, k.Copy},
		{k.ScrollUp, k.ScrollDown, k.PageUp, k.PageDown, k.Top, k.Bottom},
		{k.Views, k.NextView, k.Help, k.Quit, k.Answer, k.Skip},
		{k.Cluster, k.Global, k.Shared, k.Affinity, k.Replicas},
	}
}

// shortHelp renders bindings on one line of at most w cells: "enter run /
// retry · →/l next step · …", dropping the least useful bindings (those
// before ? and q, from the end) until it fits.
func (st *styles) shortHelp(bs []key.Binding, w int) string {
	keep := len(bs) - 2 // the ones that may go
	for {
		parts := make([]string, 0, len(bs))
		for i, b := range bs {
			if i < len(bs)-2 && i >= keep {
				continue
			}
			h := b.Help()
			parts = append(parts, st.keyHint.Render(h.Key)+" "+st.muted.Render(h.Desc))
		}
		line := " " + strings.Join(parts, st.muted.Render(" · "))
		if width(line) <= w || keep == 0 {
			return fit(line, w)
		}
		keep--
	}
}
