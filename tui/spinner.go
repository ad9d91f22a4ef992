package tui

import (
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
)

// spinTickMsg advances the spinner; tag tells a current tick from one
// scheduled before the spinner stopped and started again.
type spinTickMsg struct{ tag int }

// spin is the one spinner of the screen. Its frames are styled once, and
// the pieces that show it keep the lines around it (see piece), so a tick
// costs a few string joins.
type spin struct {
	frames []string
	fps    time.Duration
	frame  int
	tag    int
	on     bool
}

func newSpin(st styles) spin {
	s := spin{fps: spinner.MiniDot.FPS}
	for _, f := range spinner.MiniDot.Frames {
		s.frames = append(s.frames, st.running.Render(f))
	}
	return s
}

// glyph is the current frame, styled.
func (s *spin) glyph() string { return s.frames[s.frame] }

// run starts or stops the ticks; starting returns the first tick.
func (s *spin) run(on bool) tea.Cmd {
	if on == s.on {
		return nil
	}
	s.on = on
	if !on {
		return nil
	}
	s.tag++
	return s.tick()
}

// update advances the frame on a current tick and schedules the next one;
// it reports whether the frame changed.
func (s *spin) update(msg spinTickMsg) (tea.Cmd, bool) {
	if !s.on || msg.tag != s.tag {
		return nil, false
	}
	s.frame = (s.frame + 1) % len(s.frames)
	return s.tick(), true
}

func (s *spin) tick() tea.Cmd {
	tag := s.tag
	return tea.Tick(s.fps, func(time.Time) tea.Msg { return spinTickMsg{tag: tag} })
}
