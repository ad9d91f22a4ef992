// Package cast records what a terminal showed as an asciicast v2 file,
// asciinema's format: a JSON header line, then one JSON array per event,
// [seconds, "o", data] for output and [seconds, "r", "WxH"] for a resize.
// Such a file plays in asciinema's player and converts to a GIF with the
// usual tools, which is what a presenter publishing a demo needs.
package cast

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"sync"
	"time"
	"unicode/utf8"
)

// Version is the asciicast format version the recorder writes.
const Version = 2

// Header is the first line of an asciicast v2 file.
type Header struct {
	Version int `json:"version"`
	Width   int `json:"width"`
	Height  int `json:"height"`
	// Timestamp is the Unix time the recording started.
	Timestamp int64 `json:"timestamp,omitempty"`
	// IdleTimeLimit caps pauses on replay, so a long wait for a cluster
	// does not become a long blank stretch of the video.
	IdleTimeLimit float64           `json:"idle_time_limit,omitempty"`
	Title         string            `json:"title,omitempty"`
	Env           map[string]string `json:"env,omitempty"`
}

// Event kinds.
const (
	Output = "o"
	Resize = "r"
)

// Event is one recorded event.
type Event struct {
	// Time is the offset from the start of the recording.
	Time time.Duration
	Kind string
	Data string
}

// Recorder writes an asciicast v2 stream. Write records terminal output and
// may be called from the renderer's goroutine while Resize is called from
// another; events keep the order of the calls.
type Recorder struct {
	mu    sync.Mutex
	out   *bufio.Writer
	now   func() time.Time
	start time.Time
	last  time.Duration
	// tail holds the bytes of a UTF-8 sequence cut by a write boundary:
	// JSON strings must be valid UTF-8, so they wait for the next write.
	tail []byte
	err  error
}

// New writes the header to w and returns a recorder whose event times count
// from now(); a nil now means time.Now. The header's Timestamp is filled in
// from the same clock when zero.
func New(w io.Writer, h Header, now func() time.Time) (*Recorder, error) {
	if now == nil {
		now = time.Now
	}
	if h.Width <= 0 || h.Height <= 0 {
		return nil, fmt.Errorf("asciicast header: invalid size %dx%d", h.Width, h.Height)
	}
	h.Version = Version
	start := now()
	if h.Timestamp == 0 {
		h.Timestamp = start.Unix()
	}
	r := &Recorder{out: bufio.NewWriter(w), now: now, start: start}
	line, err := json.Marshal(h)
	if err != nil {
		return nil, fmt.Errorf("asciicast header: %w", err)
	}
	if _, err := r.out.Write(append(line, '\n')); err != nil {
		return nil, fmt.Errorf("write asciicast header: %w", err)
	}
	return r, nil
}

// Write records p as output shown by the terminal. It never fails the
// program it records: an error is kept and returned by Close.
func (r *Recorder) Write(p []byte) (int, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	data := append(r.tail, p...)
	cut := completeUTF8(data)
	r.tail = append([]byte(nil), data[cut:]...)
	if cut > 0 {
		r.event(Output, string(data[:cut]))
	}
	return len(p), nil
}

// Resize records that the terminal now has w columns and h rows.
func (r *Recorder) Resize(w, h int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.event(Resize, strconv.Itoa(w)+"x"+strconv.Itoa(h))
}

// Close flushes what is buffered, including a cut UTF-8 sequence, which is
// written as it is; it returns the first error the recording met.
func (r *Recorder) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.tail) > 0 {
		r.event(Output, string(r.tail))
		r.tail = nil
	}
	if err := r.out.Flush(); err != nil && r.err == nil {
		r.err = err
	}
	return r.err
}

// event appends one event line; times never go backwards, even if the
// clock does.
func (r *Recorder) event(kind, data string) {
	if r.err != nil {
		return
	}
	t := max(r.now().Sub(r.start), r.last)
	r.last = t
	enc, err := marshalString(data)
	if err != nil {
		r.err = err
		return
	}
	line := make([]byte, 0, len(enc)+24)
	line = append(line, '[')
	line = strconv.AppendFloat(line, t.Seconds(), 'f', 6, 64)
	line = append(line, ", \""...)
	line = append(line, kind...)
	line = append(line, "\", "...)
	line = append(line, enc...)
	line = append(line, "]\n"...)
	if _, err := r.out.Write(line); err != nil {
		r.err = fmt.Errorf("write asciicast event: %w", err)
	}
}

// marshalString encodes s as a JSON string without HTML escaping, which
// would only make terminal output longer.
func marshalString(s string) ([]byte, error) {
	var b jsonBuffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(s); err != nil {
		return nil, err
	}
	return b[:len(b)-1], nil // Encode adds a newline
}

type jsonBuffer []byte

func (b *jsonBuffer) Write(p []byte) (int, error) { *b = append(*b, p...); return len(p), nil }

// completeUTF8 returns the length of the longest prefix of p that does not
// end inside a UTF-8 sequence that later bytes could complete.
func completeUTF8(p []byte) int {
	// A sequence is at most 4 bytes: look back at most 3 for its start.
	for i := len(p) - 1; i >= 0 && i >= len(p)-3; i-- {
		c := p[i]
		if c < utf8.RuneSelf {
			return len(p) // ASCII: nothing is cut
		}
		if utf8.RuneStart(c) {
			if utf8.FullRune(p[i:]) {
				return len(p)
			}
			return i
		}
	}
	return len(p)
}

// Read parses an asciicast v2 stream, for tests and for checking a file
// before it is published.
func Read(rd io.Reader) (Header, []Event, error) {
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 0, 64*1024), 16*1024*1024)
	var h Header
	if !sc.Scan() {
		if err := sc.Err(); err != nil {
			return h, nil, err
		}
		return h, nil, errors.New("asciicast: empty file")
	}
	if err := json.Unmarshal(sc.Bytes(), &h); err != nil {
		return h, nil, fmt.Errorf("asciicast header: %w", err)
	}
	if h.Version != Version {
		return h, nil, fmt.Errorf("asciicast: version %d, want %d", h.Version, Version)
	}
	var events []Event
	for n := 2; sc.Scan(); n++ {
		if len(sc.Bytes()) == 0 {
			continue
		}
		var raw [3]json.RawMessage
		if err := json.Unmarshal(sc.Bytes(), &raw); err != nil {
			return h, events, fmt.Errorf("asciicast line %d: %w", n, err)
		}
		var secs float64
		var ev Event
		if err := errors.Join(json.Unmarshal(raw[0], &secs), json.Unmarshal(raw[1], &ev.Kind), json.Unmarshal(raw[2], &ev.Data)); err != nil {
			return h, events, fmt.Errorf("asciicast line %d: %w", n, err)
		}
		ev.Time = time.Duration(secs * float64(time.Second))
		events = append(events, ev)
	}
	return h, events, sc.Err()
}
