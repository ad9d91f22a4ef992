package real

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"time"
)

// ImageEngine is the host's container engine as the lab's image commands
// use it: `images pull` fills it once, the preload saves from it what the
// nodes load, and a bundle's images are loaded into it. Tests use a fake.
type ImageEngine interface {
	// Inspect reports a local image by reference; ok is false when the
	// engine has no such image.
	Inspect(ctx context.Context, ref string) (info ImageInfo, ok bool, err error)
	// Pull pulls ref from its registry.
	Pull(ctx context.Context, ref string) error
	// Tag gives the image src the name dst.
	Tag(ctx context.Context, src, dst string) error
	// Save writes the named images as one archive (docker save's format).
	Save(ctx context.Context, w io.Writer, refs []string) error
	// Load loads an archive written by Save.
	Load(ctx context.Context, r io.Reader) error
}

// ImageInfo is what the engine says of a local image.
type ImageInfo struct {
	// ID is the image's ID (the config's digest).
	ID string
	// Size is the image's unpacked size in bytes, as the engine reports it.
	Size int64
}

// CLIEngine drives docker or podman through its command line, which both
// share for these operations, so the lab needs no engine API client.
type CLIEngine struct {
	// Name is the CLI: "docker" or "podman".
	Name string
}

var _ ImageEngine = CLIEngine{}

// run runs the CLI, with stdin and stdout as given, and turns a failure
// into an error carrying the CLI's own last line.
func (e CLIEngine) run(ctx context.Context, stdin io.Reader, stdout io.Writer, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, e.Name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdin, stdout, &stderr
	cmd.WaitDelay = 5 * time.Second
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if i := strings.LastIndex(msg, "\n"); i >= 0 {
			msg = msg[i+1:]
		}
		if msg == "" {
			msg = err.Error()
		}
		return fmt.Errorf("%s %s: %s", e.Name, args[0], msg)
	}
	return nil
}

// Inspect implements ImageEngine with `image inspect`.
func (e CLIEngine) Inspect(ctx context.Context, ref string) (ImageInfo, bool, error) {
	var out bytes.Buffer
	err := e.run(ctx, nil, &out, "image", "inspect", "--format", "{{json .}}", ref)
	if err != nil {
		if strings.Contains(strings.ToLower(err.Error()), "no such image") || strings.Contains(err.Error(), "image not known") {
			return ImageInfo{}, false, nil
		}
		return ImageInfo{}, false, err
	}
	var raw struct {
		ID, Id string
		Size   int64
	}
	if err := json.Unmarshal(bytes.TrimSpace(out.Bytes()), &raw); err != nil {
		return ImageInfo{}, false, fmt.Errorf("decode %s image inspect %s: %w", e.Name, ref, err)
	}
	if raw.ID == "" {
		raw.ID = raw.Id
	}
	return ImageInfo{ID: raw.ID, Size: raw.Size}, true, nil
}

// Pull implements ImageEngine with `pull`.
func (e CLIEngine) Pull(ctx context.Context, ref string) error {
	return e.run(ctx, nil, io.Discard, "pull", ref)
}

// Tag implements ImageEngine with `tag`.
func (e CLIEngine) Tag(ctx context.Context, src, dst string) error {
	return e.run(ctx, nil, io.Discard, "tag", src, dst)
}

// Save implements ImageEngine with `save`, streaming to w.
func (e CLIEngine) Save(ctx context.Context, w io.Writer, refs []string) error {
	if len(refs) == 0 {
		return errors.New("save: no images")
	}
	return e.run(ctx, nil, w, append([]string{"save"}, refs...)...)
}

// Load implements ImageEngine with `load`, reading from r.
func (e CLIEngine) Load(ctx context.Context, r io.Reader) error {
	return e.run(ctx, r, io.Discard, "load")
}
