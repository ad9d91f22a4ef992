package tui

import (
	"charm.land/lipgloss/v2"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Colours of the lab: one per cluster, so a bar, a pane title and a history
// cell of the same cluster always match.
var (
	colorUS     = lipgloss.Color("#4F8EF7")
	colorEU     = lipgloss.Color("#F2B431")
	colorErr    = lipgloss.Color("#E5484D")
	colorOK     = lipgloss.Color("#3DB87A")
	colorWarn   = lipgloss.Color("#E8A33D")
	colorMuted  = lipgloss.Color("#8A8F98")
	colorAccent = lipgloss.Color("#B78CFF")
	colorBorder = lipgloss.Color("#4A4F59")
	colorSimBg  = lipgloss.Color("#6D3FC0")
	colorText   = lipgloss.Color("#E6E6E6")
)

// Glyphs that still tell the clusters apart where colour is off (NO_COLOR,
// a monochrome terminal, the golden files).
const (
	glyphUS    = "█"
	glyphEU    = "▓"
	glyphErr   = "╳"
	glyphEmpty = "·"
)

// styles holds every style the interface uses, in one place.
type styles struct {
	title, subtitle, muted, text, accent lipgloss.Style
	ok, warn, fail, running              lipgloss.Style
	simBadge, realBadge                  lipgloss.Style
	border, borderActive                 lipgloss.Style
	tab, tabActive                       lipgloss.Style
	command, prompt, where               lipgloss.Style
	us, eu, errs                         lipgloss.Style
	selected                             lipgloss.Style
	keyHint                              lipgloss.Style
}

func newStyles() styles {
	return styles{
		title:        lipgloss.NewStyle().Bold(true).Foreground(colorText),
		subtitle:     lipgloss.NewStyle().Foreground(colorAccent).Bold(true),
		muted:        lipgloss.NewStyle().Foreground(colorMuted),
		text:         lipgloss.NewStyle().Foreground(colorText),
		accent:       lipgloss.NewStyle().Foreground(colorAccent),
		ok:           lipgloss.NewStyle().Foreground(colorOK),
		warn:         lipgloss.NewStyle().Foreground(colorWarn),
		fail:         lipgloss.NewStyle().Foreground(colorErr).Bold(true),
		running:      lipgloss.NewStyle().Foreground(colorAccent).Bold(true),
		simBadge:     lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#FFFFFF")).Background(colorSimBg).Padding(0, 1),
		realBadge:    lipgloss.NewStyle().Bold(true).Foreground(lipgloss.Color("#111111")).Background(colorOK).Padding(0, 1),
		border:       lipgloss.NewStyle().Foreground(colorBorder),
		borderActive: lipgloss.NewStyle().Foreground(colorAccent),
		tab:          lipgloss.NewStyle().Foreground(colorMuted),
		tabActive:    lipgloss.NewStyle().Bold(true).Foreground(colorText).Background(colorBorder),
		command:      lipgloss.NewStyle().Foreground(colorText),
		prompt:       lipgloss.NewStyle().Foreground(colorOK),
		where:        lipgloss.NewStyle().Foreground(colorMuted).Italic(true),
		us:           lipgloss.NewStyle().Foreground(colorUS),
		eu:           lipgloss.NewStyle().Foreground(colorEU),
		errs:         lipgloss.NewStyle().Foreground(colorErr),
		selected:     lipgloss.NewStyle().Bold(true).Foreground(colorText),
		keyHint:      lipgloss.NewStyle().Foreground(colorAccent).Bold(true),
	}
}

// cluster returns the style of cluster c.
func (s styles) cluster(c cluster.Name) lipgloss.Style {
	if c == cluster.EU {
		return s.eu
	}
	return s.us
}

// glyph returns the bar glyph of cluster c.
func glyph(c cluster.Name) string {
	if c == cluster.EU {
		return glyphEU
	}
	return glyphUS
}
