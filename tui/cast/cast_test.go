package cast

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/vt"
)

// fakeClock advances by step on every reading.
func fakeClock(start time.Time, step time.Duration) func() time.Time {
	t := start
	return func() time.Time {
		now := t
		t = t.Add(step)
		return now
	}
}

// replay feeds a recording to a terminal emulator, as a player would, and
// returns the screen it ends on.
func replay(t *testing.T, h Header, events []Event) string {
	t.Helper()
	term := vt.NewEmulator(h.Width, h.Height)
	defer term.Close()
	for _, ev := range events {
		switch ev.Kind {
		case Output:
			if _, err := term.WriteString(ev.Data); err != nil {
				t.Fatal(err)
			}
		case Resize:
			var w, hh int
			if _, err := fmt.Sscanf(ev.Data, "%dx%d", &w, &hh); err != nil {
				t.Fatalf("resize event %q: %v", ev.Data, err)
			}
			term.Resize(w, hh)
		}
	}
	return term.String()
}

func TestRecordingReplaysToTheSameScreen(t *testing.T) {
	var buf bytes.Buffer
	start := time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC)
	r, err := New(&buf, Header{Width: 20, Height: 3, Title: "demo", IdleTimeLimit: 2}, fakeClock(start, 250*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// "é" and "✓" cut across writes, as a renderer's buffer may cut them.
	writes := []string{"\x1b[2J\x1b[Hcaf", "\xc3", "\xa9 ok \xe2\x9c", "\x93", "\r\nline two <&>"}
	for _, w := range writes {
		if n, err := r.Write([]byte(w)); err != nil || n != len(w) {
			t.Fatalf("Write(%q) = %d, %v", w, n, err)
		}
	}
	r.Resize(30, 4)
	if _, err := r.Write([]byte("\r\nafter resize")); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	h, events, err := Read(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if h.Version != 2 || h.Width != 20 || h.Height != 3 || h.Title != "demo" || h.IdleTimeLimit != 2 || h.Timestamp != start.Unix() {
		t.Errorf("header = %+v", h)
	}
	var out strings.Builder
	var last time.Duration
	resizes := 0
	for _, ev := range events {
		if ev.Time < last {
			t.Errorf("event times go backwards: %v after %v", ev.Time, last)
		}
		last = ev.Time
		switch ev.Kind {
		case Output:
			out.WriteString(ev.Data)
		case Resize:
			resizes++
			if ev.Data != "30x4" {
				t.Errorf("resize event %q, want 30x4", ev.Data)
			}
		default:
			t.Errorf("unknown event kind %q", ev.Kind)
		}
	}
	if want := strings.Join(writes, "") + "\r\nafter resize"; out.String() != want {
		t.Errorf("recorded output %q, want %q", out.String(), want)
	}
	if resizes != 1 {
		t.Errorf("%d resize events, want 1", resizes)
	}
	screen := replay(t, h, events)
	for _, want := range []string{"café ok ✓", "line two <&>", "after resize"} {
		if !strings.Contains(screen, want) {
			t.Errorf("replayed screen lacks %q:\n%s", want, screen)
		}
	}
}

func TestEventLinesAreAsciinemaJSON(t *testing.T) {
	var buf bytes.Buffer
	r, err := New(&buf, Header{Width: 80, Height: 24, Timestamp: 1}, fakeClock(time.Unix(1, 0), 1500*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	r.Write([]byte("a\"b\x1b[0m<"))
	r.Resize(100, 30)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
	want := []string{
		`{"version":2,"width":80,"height":24,"timestamp":1}`,
		`[1.500000, "o", "a\"b\u001b[0m<"]`,
		`[3.000000, "r", "100x30"]`,
	}
	if strings.Join(lines, "\n") != strings.Join(want, "\n") {
		t.Errorf("file:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

func TestBadInput(t *testing.T) {
	if _, err := New(&bytes.Buffer{}, Header{Width: 0, Height: 24}, nil); err == nil {
		t.Error("a zero-width header was accepted")
	}
	for name, in := range map[string]string{
		"empty":       "",
		"not json":    "hello\n",
		"version 1":   `{"version":1,"width":80,"height":24}` + "\n",
		"bad event":   `{"version":2,"width":80,"height":24}` + "\n[1, \"o\"\n",
		"bad time":    `{"version":2,"width":80,"height":24}` + "\n[\"x\", \"o\", \"a\"]\n",
		"short event": `{"version":2,"width":80,"height":24}` + "\n[1, \"o\"]\n",
	} {
		if _, _, err := Read(strings.NewReader(in)); err == nil {
			t.Errorf("%s: Read accepted %q", name, in)
		}
	}
}

// BenchmarkWrite measures recording a full-screen frame, what the guide
// writes on a busy redraw.
func BenchmarkWrite(b *testing.B) {
	frame := []byte(strings.Repeat("\x1b[38;5;42m█████\x1b[0m step ✓ ", 400))
	r, err := New(&bytes.Buffer{}, Header{Width: 160, Height: 48}, nil)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(len(frame)))
	for b.Loop() {
		r.Write(frame)
	}
}
