// Package labdir manages the lab directory: the one place where a lab keeps
// its state, journal, logs and kubeconfigs, so that it can resume after the
// process dies. Writes are atomic (temporary file, then rename) and a lock
// keeps two processes from driving one lab at once.
package labdir

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// MetaFile names the file that records which backend a lab directory belongs to.
const MetaFile = "lab.json"

// Meta is what lab.json records about the lab.
type Meta struct {
	Version int       `json:"version"`
	Backend string    `json:"backend"`
	Seed    uint64    `json:"seed"`
	Created time.Time `json:"created"`
}

const metaVersion = 1

// Dir is an open, locked lab directory.
type Dir struct {
	path string
	meta Meta
	lock *os.File
}

// DefaultPath is the lab directory for a backend under the user's XDG state
// directory: $XDG_STATE_HOME/clustermesh-lab/<backend>, falling back to
// ~/.local/state.
func DefaultPath(backend string) (string, error) {
	base := os.Getenv("XDG_STATE_HOME")
	if base == "" {
		home, err := os.UserHomeDir()
		if err != nil {
			return "", fmt.Errorf("find a default lab directory: %w (use --lab-dir)", err)
		}
		base = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(base, "clustermesh-lab", backend), nil
}

// Open opens (creating if needed) the lab directory at path for the given
// backend and seed, and locks it. Only a lab directory (one with lab.json),
// an empty directory or a missing one is used: a directory that holds
// anything else is refused, so a mistyped --lab-dir never scatters the lab's
// files among the learner's. A directory that belongs to another backend,
// holds a corrupt lab.json, cannot be written or is locked by a live process
// is refused too, with an error that says how to go on; nothing in it is
// ever removed.
func Open(path, backend string, seed uint64) (*Dir, error) {
	abs, fi, err := resolve(path)
	if err != nil {
		return nil, err
	}
	if fi != nil {
		if err := checkLabOrEmpty(abs); err != nil {
			return nil, err
		}
	}
	if err := os.MkdirAll(abs, 0o755); err != nil {
		return nil, cluster.WithHint(fmt.Errorf("create lab directory %s: %w", abs, err), "choose a writable --lab-dir")
	}
	if err := checkWritable(abs); err != nil {
		return nil, cluster.WithHint(fmt.Errorf("lab directory %s is not writable: %w", abs, err), "fix its permissions or choose another --lab-dir")
	}
	lock, err := acquire(abs)
	if err != nil {
		return nil, err
	}
	d := &Dir{path: abs, lock: lock}
	if err := d.loadMeta(backend, seed); err != nil {
		d.Close()
		return nil, err
	}
	return d, nil
}

func (d *Dir) loadMeta(backend string, seed uint64) error {
	b, err := d.ReadFile(MetaFile)
	if errors.Is(err, os.ErrNotExist) {
		d.meta = Meta{Version: metaVersion, Backend: backend, Seed: seed, Created: time.Now().UTC()}
		out, _ := json.MarshalIndent(d.meta, "", "  ")
		return d.WriteFile(MetaFile, append(out, '\n'))
	}
	if err != nil {
		return err
	}
	m, err := ParseMeta(b)
	var newer *NewerError
	switch {
	case errors.As(err, &newer):
		return cluster.WithHint(fmt.Errorf("lab directory %s was written by a newer clustermesh-lab (format %d)", d.path, newer.Version),
			"upgrade clustermesh-lab, or start over with --fresh")
	case err != nil:
		return d.Corrupt(MetaFile, err)
	}
	d.meta = m
	if d.meta.Backend != backend {
		return cluster.WithHint(fmt.Errorf("lab directory %s holds a lab on the %s backend, not %s", d.path, d.meta.Backend, backend),
			fmt.Sprintf("use --backend %s to resume it, another --lab-dir, or --fresh to set it aside and start over", d.meta.Backend))
	}
	return nil
}

// Backends are the backends a lab directory can belong to (the values of
// cluster.Backend.Kind); lab.json naming another is corrupt.
var Backends = []string{"sim", "kind"}

// NewerError reports a lab.json written by a newer clustermesh-lab.
type NewerError struct{ Version int }

// Error names both formats.
func (e *NewerError) Error() string {
	return fmt.Sprintf("format %d is newer than %d", e.Version, metaVersion)
}

// ParseMeta decodes and checks lab.json: a known format and backend. The
// creation time is informational and not compared with the clock.
func ParseMeta(b []byte) (Meta, error) {
	var m Meta
	if err := json.Unmarshal(b, &m); err != nil {
		return Meta{}, err
	}
	switch {
	case m.Version > metaVersion:
		return Meta{}, &NewerError{Version: m.Version}
	case m.Version < 1:
		return Meta{}, fmt.Errorf("format %d is not a lab format", m.Version)
	case m.Backend == "":
		return Meta{}, errors.New("no backend recorded")
	case !slices.Contains(Backends, m.Backend):
		return Meta{}, fmt.Errorf("unknown backend %q", m.Backend)
	}
	return m, nil
}

// Corrupt builds the error for an unreadable file in the lab directory; it
// names the file and the ways on, and never deletes anything.
func (d *Dir) Corrupt(name string, err error) error {
	return cluster.WithHint(fmt.Errorf("lab directory %s: %s is corrupt: %v", d.path, name, err),
		"run again with --fresh to move this lab directory aside (it is kept as a backup) and start a new lab")
}

// Path is the absolute path of the lab directory.
func (d *Dir) Path() string { return d.path }

// Meta is what lab.json records.
func (d *Dir) Meta() Meta { return d.meta }

// File is the absolute path of a file in the lab directory.
func (d *Dir) File(name string) string { return filepath.Join(d.path, name) }

// ReadFile reads a file of the lab directory; a missing file is os.ErrNotExist.
func (d *Dir) ReadFile(name string) ([]byte, error) {
	b, err := os.ReadFile(d.File(name))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("read %s: %w", d.File(name), err)
	}
	return b, err
}

// WriteFile replaces a file of the lab directory atomically with mode 0600:
// a crash leaves either the old or the new content, never a mix.
func (d *Dir) WriteFile(name string, data []byte) error {
	return labfiles.WriteAtomic(d.File(name), data, 0o600)
}

// Close releases the lock.
func (d *Dir) Close() error {
	if d.lock == nil {
		return nil
	}
	err := release(d.lock)
	d.lock = nil
	return err
}

// SetAside renames an existing lab directory to <path>.bak-<time> so that a
// new lab can start in its place; it returns the backup's path, or "" when
// there was nothing to set aside (no directory, or an empty one). It only
// ever moves a lab directory: a file, a directory that holds no lab, the
// home or root directory and a directory that holds the current one are
// refused, and a symbolic link is followed, so the lab it points to is
// moved and the link keeps pointing at the new lab.
func SetAside(path string, now time.Time) (string, error) {
	abs, fi, err := resolve(path)
	if err != nil || fi == nil {
		return "", err
	}
	link, _ := filepath.Abs(path)
	if err := checkLabOrEmpty(abs); err != nil {
		return "", err
	}
	if !isLab(abs) {
		return "", nil
	}
	if err := checkMovable(abs); err != nil {
		return "", err
	}
	lock, err := acquire(abs)
	if err != nil {
		return "", err
	}
	release(lock)
	backup := fmt.Sprintf("%s.bak-%s", abs, now.UTC().Format("20060102-150405"))
	if _, err := os.Lstat(backup); err == nil {
		return "", cluster.WithHint(fmt.Errorf("set lab directory %s aside: %s already exists", abs, backup), "wait a second and run again")
	}
	if err := os.Rename(abs, backup); err != nil {
		return "", fmt.Errorf("set lab directory %s aside: %w", abs, err)
	}
	if link != abs {
		// Keep the learner's link pointing at a directory, where the new
		// lab then starts.
		if err := os.Mkdir(abs, fi.Mode().Perm()); err != nil {
			return backup, fmt.Errorf("recreate lab directory %s: %w", abs, err)
		}
	}
	return backup, nil
}

func checkWritable(dir string) error {
	f, err := os.CreateTemp(dir, ".write-test-*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// FileStore loads and saves one file of the lab directory; it satisfies the
// simulated mesh's Store.
type FileStore struct {
	dir  *Dir
	name string
}

// Store returns the FileStore for the named file.
func (d *Dir) Store(name string) FileStore { return FileStore{dir: d, name: name} }

// Load reads the file; a missing file is os.ErrNotExist.
func (s FileStore) Load() ([]byte, error) { return s.dir.ReadFile(s.name) }

// Save replaces the file atomically.
func (s FileStore) Save(b []byte) error { return s.dir.WriteFile(s.name, b) }
