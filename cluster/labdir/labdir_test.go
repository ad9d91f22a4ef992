package labdir

import (
	"encoding/json"
	"os"
	"path/filepath"
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

func TestWriteAtomic(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "state.json")
	for _, content := range []string{"one", "two, longer", "3"} {
		if err := WriteAtomic(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		if b, err := os.ReadFile(path); err != nil || string(b) != content {
			t.Errorf("read back %q, %v; want %q", b, err, content)
		}
	}
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, %v", fi.Mode(), err)
	}
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) != 1 {
		t.Errorf("directory holds %v, want only state.json (no temporary files left)", entries)
	}
	if err := WriteAtomic(filepath.Join(dir, "missing", "x"), []byte("x"), 0o600); err == nil {
		t.Error("WriteAtomic into a missing directory succeeded")
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
