package labdir

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func TestOpenRecordsBackendAndSeed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a", "lab")
	d, err := Open(path, "sim", 42)
	if err != nil {
		t.Fatal(err)
	}
	if m := d.Meta(); m.Backend != "sim" || m.Seed != 42 || m.Version != metaVersion || m.Created.IsZero() {
		t.Errorf("meta %+v", m)
	}
	d.Close()
	var m Meta
	b, err := os.ReadFile(filepath.Join(path, MetaFile))
	if err != nil || json.Unmarshal(b, &m) != nil || m.Backend != "sim" || m.Seed != 42 {
		t.Fatalf("lab.json %s: %v", b, err)
	}
	// Reopening keeps the recorded seed, whatever the caller passes.
	d, err = Open(path, "sim", 7)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Meta().Seed != 42 {
		t.Errorf("reopened seed %d, want 42", d.Meta().Seed)
	}
}

func TestOpenRefuses(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file")
	if err := os.WriteFile(file, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(dir, "kind-lab")
	d, err := Open(other, "kind", 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	corrupt := filepath.Join(dir, "corrupt")
	if err := os.MkdirAll(corrupt, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(corrupt, MetaFile), []byte("{}"), 0o600); err != nil {
		t.Fatal(err)
	}
	newer := filepath.Join(dir, "newer")
	if err := os.MkdirAll(newer, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(newer, MetaFile), []byte(`{"version":99,"backend":"sim"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want, hint string
	}{
		{"a file", file, "is a file", "another --lab-dir"},
		{"under a file", filepath.Join(file, "lab"), "create lab directory", "writable"},
		{"the other backend", other, "holds a lab on the kind backend", "--backend kind"},
		{"lab.json without a backend", corrupt, "lab.json is corrupt", "--fresh"},
		{"a newer format", newer, "newer clustermesh-lab", "--fresh"},
	} {
		_, err := Open(tc.path, "sim", 1)
		if err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(cluster.HintOf(err), tc.hint) {
			t.Errorf("%s: %v (hint %q), want %q with hint %q", tc.name, err, cluster.HintOf(err), tc.want, tc.hint)
		}
	}
	if b, _ := os.ReadFile(filepath.Join(corrupt, MetaFile)); string(b) != "{}" {
		t.Errorf("a refused lab.json was rewritten: %q", b)
	}
}

func TestLock(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab")
	d, err := Open(path, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(path, "sim", 1)
	if err == nil || !strings.Contains(err.Error(), "is using lab directory") {
		t.Fatalf("second Open while locked: %v", err)
	}
	if _, err := SetAside(path, time.Now()); err == nil {
		t.Error("SetAside of a locked lab succeeded")
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	d, err = Open(path, "sim", 1)
	if err != nil {
		t.Fatalf("Open after Close: %v", err)
	}
	d.Close()
}

func TestSetAside(t *testing.T) {
	path := filepath.Join(t.TempDir(), "lab")
	if got, err := SetAside(path, time.Now()); got != "" || err != nil {
		t.Fatalf("SetAside of a missing lab: %q, %v", got, err)
	}
	d, err := Open(path, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.WriteFile("journal.json", []byte("keep me")); err != nil {
		t.Fatal(err)
	}
	d.Close()
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	backup, err := SetAside(path, at)
	if err != nil {
		t.Fatal(err)
	}
	if backup != path+".bak-20260102-030405" {
		t.Errorf("backup %q", backup)
	}
	if b, err := os.ReadFile(filepath.Join(backup, "journal.json")); err != nil || string(b) != "keep me" {
		t.Errorf("backup's journal: %q, %v", b, err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Errorf("the lab is still there after SetAside: %v", err)
	}
}

func TestFileStore(t *testing.T) {
	d, err := Open(filepath.Join(t.TempDir(), "lab"), "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	s := d.Store("sim-state.json")
	if _, err := s.Load(); !os.IsNotExist(err) {
		t.Fatalf("Load of a missing file: %v, want os.ErrNotExist", err)
	}
	if err := s.Save([]byte(`{"a":1}`)); err != nil {
		t.Fatal(err)
	}
	if b, err := s.Load(); err != nil || string(b) != `{"a":1}` {
		t.Errorf("Load = %q, %v", b, err)
	}
}

func TestDefaultPath(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", "/state")
	if p, err := DefaultPath("sim"); err != nil || p != "/state/clustermesh-lab/sim" {
		t.Errorf("DefaultPath = %q, %v", p, err)
	}
	t.Setenv("XDG_STATE_HOME", "")
	t.Setenv("HOME", "/home/learner")
	if p, err := DefaultPath("kind"); err != nil || p != "/home/learner/.local/state/clustermesh-lab/kind" {
		t.Errorf("DefaultPath = %q, %v", p, err)
	}
}

// A --lab-dir is only ever a lab directory, an empty one or a new one:
// anything else is refused by Open and by SetAside, and left as it was.
func TestOnlyLabDirectories(t *testing.T) {
	base := t.TempDir()
	mk := func(name string, files ...string) string {
		dir := filepath.Join(base, name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			if err := os.WriteFile(filepath.Join(dir, f), []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return dir
	}
	project := mk("project", "go.mod", "main.go", "README.md", "notes.txt")
	lab := filepath.Join(base, "lab")
	d, err := Open(lab, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, []byte("mine"), 0o600); err != nil {
		t.Fatal(err)
	}
	dangling := filepath.Join(base, "dangling")
	if err := os.Symlink(filepath.Join(base, "nowhere"), dangling); err != nil {
		t.Fatal(err)
	}
	loop := filepath.Join(base, "loop")
	if err := os.Symlink(loop, loop); err != nil {
		t.Fatal(err)
	}
	linkToProject := filepath.Join(base, "to-project")
	if err := os.Symlink(project, linkToProject); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, want, hint string
	}{
		{"a project directory", project, "is not a lab directory: it holds README.md, go.mod, main.go, ... and no lab.json", "new or empty directory"},
		{"a link to a project directory", linkToProject, project + " is not a lab directory", "new or empty directory"},
		{"a file", file, "is a file, not a directory", "another --lab-dir"},
		{"a dangling link", dangling, "is a symbolic link to " + filepath.Join(base, "nowhere") + ", which does not exist", "create " + filepath.Join(base, "nowhere")},
		{"a link loop", loop, "follow the symbolic link", "another --lab-dir"},
	} {
		before := listing(t, base)
		if _, err := Open(tc.path, "sim", 1); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(cluster.HintOf(err), tc.hint) {
			t.Errorf("Open %s: %v (hint %q), want %q with hint %q", tc.name, err, cluster.HintOf(err), tc.want, tc.hint)
		}
		if _, err := SetAside(tc.path, time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) || !strings.Contains(cluster.HintOf(err), tc.hint) {
			t.Errorf("SetAside %s: %v (hint %q), want %q with hint %q", tc.name, err, cluster.HintOf(err), tc.want, tc.hint)
		}
		if after := listing(t, base); after != before {
			t.Errorf("%s: the directory changed:\n%s\nwant\n%s", tc.name, after, before)
		}
	}

	// An empty directory, or one holding only what a lab's first start
	// leaves before lab.json, is adopted; --fresh has nothing to move.
	for _, files := range [][]string{nil, {"lab.lock", ".write-test-123", ".lab.json.tmp-456"}} {
		empty := mk("empty"+strconv.Itoa(len(files)), files...)
		if backup, err := SetAside(empty, time.Now()); backup != "" || err != nil {
			t.Errorf("SetAside of an empty directory %v: %q, %v; want nothing moved", files, backup, err)
		}
		d, err := Open(empty, "sim", 1)
		if err != nil {
			t.Fatalf("Open of an empty directory %v: %v", files, err)
		}
		d.Close()
	}
}

// SetAside follows a symbolic link: the lab it points to is moved, the link
// stays and points at the new lab.
func TestSetAsideFollowsLinks(t *testing.T) {
	base := t.TempDir()
	real := filepath.Join(base, "big-disk", "lab")
	d, err := Open(real, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	link := filepath.Join(base, "lab")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	backup, err := SetAside(link, time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	if err != nil {
		t.Fatal(err)
	}
	if backup != real+".bak-20260102-030405" {
		t.Errorf("backup %q, want next to the link's target", backup)
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone or replaced: %v", err)
	}
	d, err = Open(link, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if d.Path() != real {
		t.Errorf("the new lab is in %s, want %s (where the link points)", d.Path(), real)
	}
}

// --fresh never moves the directory the learner is in, one above it, their
// home or the root.
func TestSetAsideRefusesToMoveWhereYouAre(t *testing.T) {
	base := t.TempDir()
	lab := filepath.Join(base, "lab")
	d, err := Open(lab, "sim", 1)
	if err != nil {
		t.Fatal(err)
	}
	d.Close()
	sub := filepath.Join(lab, "sub")
	if err := os.Mkdir(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, cwd, path, want string }{
		{"the current directory", lab, ".", "which holds the current directory"},
		{"a parent of the current directory", sub, "..", "which holds the current directory"},
		{"the home directory", base, lab, "your home directory"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Chdir(tc.cwd)
			if tc.name == "the home directory" {
				t.Setenv("HOME", lab)
			}
			if _, err := SetAside(tc.path, time.Now()); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("SetAside: %v, want %q", err, tc.want)
			}
			if _, err := os.Stat(filepath.Join(lab, MetaFile)); err != nil {
				t.Errorf("the lab moved: %v", err)
			}
		})
	}
	if err := checkMovable("/"); err == nil || !strings.Contains(err.Error(), "the root directory") {
		t.Errorf("checkMovable(/): %v", err)
	}
}

// listing names every entry under dir, for before/after comparisons.
func listing(t *testing.T, dir string) string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		out = append(out, strings.TrimPrefix(path, dir))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return strings.Join(out, "\n")
}

func TestParseMeta(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{`{"version":1,"backend":"sim","seed":3,"created":"2026-01-02T03:04:05Z"}`, ""},
		{`{"version":1,"backend":"kind"}`, ""},
		{`{"version":0,"backend":"sim"}`, "format 0 is not a lab format"},
		{`{"version":-4,"backend":"sim"}`, "format -4"},
		{`{"version":1,"backend":"mars"}`, `unknown backend "mars"`},
		{`{"version":1}`, "no backend recorded"},
		{`{"version":2,"backend":"sim"}`, "format 2 is newer"},
		{`{"version":1,"backend":"sim"} {}`, "invalid character"},
		{`[]`, "cannot unmarshal"},
		{`{"version":1,"backend":"sim","seed":-1}`, "cannot unmarshal"},
	} {
		_, err := ParseMeta([]byte(tc.in))
		if (err == nil) != (tc.want == "") || (err != nil && !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("ParseMeta(%s) = %v, want %q", tc.in, err, tc.want)
		}
	}
}
