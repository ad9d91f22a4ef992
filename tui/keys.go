package tui

import "charm.land/bubbles/v2/key"

// keyMap lists every key of the guide, in one place; it implements the
// help.KeyMap interface for the short and full help.
type keyMap struct {
	Next, Prev, Run, Probe, Explain key.Binding
	ScrollUp, ScrollDown            key.Binding
	PageUp, PageDown                key.Binding
	Copy, Help, Quit                key.Binding
	Choose                          key.Binding
	Cluster, Global, Shared         key.Binding
	Affinity, More, Fewer           key.Binding
	Yes, No                         key.Binding
}

func newKeyMap() keyMap {
	b := func(keys []string, k, desc string) key.Binding {
		return key.NewBinding(key.WithKeys(keys...), key.WithHelp(k, desc))
	}
	return keyMap{
		Next:       b([]string{"right", "l", "n"}, "→/l", "next step"),
		Prev:       b([]string{"left", "h", "b"}, "←/h", "previous step"),
		Run:        b([]string{"enter"}, "enter", "run / retry"),
		Probe:      b([]string{"p"}, "p", "probe again"),
		Explain:    b([]string{"e"}, "e", "explanation"),
		ScrollUp:   b([]string{"up", "k"}, "↑/k", "scroll log up"),
		ScrollDown: b([]string{"down", "j"}, "↓/j", "scroll log down"),
		PageUp:     b([]string{"pgup"}, "pgup", "log page up"),
		PageDown:   b([]string{"pgdown"}, "pgdn", "log page down"),
		Copy:       b([]string{"c"}, "c", "copy commands"),
		Help:       b([]string{"?"}, "?", "all keys"),
		Quit:       b([]string{"q", "ctrl+c"}, "q", "quit"),
		Choose:     b([]string{"up", "down", "k", "j", "tab"}, "↑/↓", "choose"),
		Cluster:    b([]string{"tab"}, "tab", "US / EU"),
		Global:     b([]string{"g"}, "g", "global"),
		Shared:     b([]string{"s"}, "s", "shared"),
		Affinity:   b([]string{"a"}, "a", "affinity"),
		More:       b([]string{"+", "="}, "+", "replica"),
		Fewer:      b([]string{"-"}, "-", "replica"),
		Yes:        b([]string{"y", "Y"}, "y", "yes"),
		No:         b([]string{"n", "N", "esc"}, "n", "no"),
	}
}

// helpKeys adapts the key map to what help shows in the current context.
type helpKeys struct {
	k          keyMap
	playground bool
	welcome    bool
}

// ShortHelp is the one-line help at the bottom.
func (h helpKeys) ShortHelp() []key.Binding {
	switch {
	case h.welcome:
		return []key.Binding{h.k.Choose, h.k.Run, h.k.Help, h.k.Quit}
	case h.playground:
		return []key.Binding{h.k.Cluster, h.k.Global, h.k.Shared, h.k.Affinity, h.k.More, h.k.Fewer, h.k.Probe, h.k.Next, h.k.Prev, h.k.Help, h.k.Quit}
	}
	return []key.Binding{h.k.Run, h.k.Next, h.k.Prev, h.k.Probe, h.k.Explain, h.k.Copy, h.k.Help, h.k.Quit}
}

// FullHelp is the help shown with ?.
func (h helpKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{h.k.Run, h.k.Next, h.k.Prev, h.k.Probe},
		{h.k.Explain, h.k.Copy, h.k.ScrollUp, h.k.ScrollDown, h.k.PageUp, h.k.PageDown},
		{h.k.Cluster, h.k.Global, h.k.Shared, h.k.Affinity, h.k.More, h.k.Fewer},
		{h.k.Help, h.k.Quit},
	}
}
