package real

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// smallBundle is a valid bundle of a stand-in chart and image archive
// (readBundle checks sums, not what the files hold).
func smallBundle(t testing.TB) []byte {
	dir := t.TempDir()
	chart := filepath.Join(dir, "cilium-1.19.5.tgz")
	node := filepath.Join(dir, "node.tar")
	images := filepath.Join(dir, "images.tar")
	os.WriteFile(chart, []byte("not really a chart"), 0o644)
	os.WriteFile(node, fakeArchive([]string{"kindest/node:v1.35.8"}), 0o644)
	os.WriteFile(images, fakeArchive([]string{"docker.io/library/busybox:1.37.0"}), 0o644)
	var buf bytes.Buffer
	m := BundleManifest{Created: time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC), CiliumVersion: "1.19.5", NodeImage: "kindest/node:v1.35.8"}
	if _, err := WriteBundle(&buf, m, chart, node, images); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// FuzzBundle feeds a bundle file, as it may come off a USB stick, to the
// reader the lab verifies bundles with: it must never panic, and what it
// accepts and extracts is exactly what the manifest's sums say.
func FuzzBundle(f *testing.F) {
	good := smallBundle(f)
	f.Add(good)
	f.Add(good[:len(good)/2])
	f.Add(good[:512])
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, data []byte) {
		dir := t.TempDir()
		path := filepath.Join(dir, "in.bundle")
		if err := os.WriteFile(path, data, 0o644); err != nil {
			t.Fatal(err)
		}
		out := filepath.Join(dir, "out")
		os.Mkdir(out, 0o755)
		m, chart, err := extractBundle(path, out, true)
		if err != nil {
			if entries, _ := os.ReadDir(out); len(entries) != 0 {
				t.Errorf("a refused bundle left %d files", len(entries))
			}
			return
		}
		if len(m.Files) != 3 || m.Format != bundleFormat {
			t.Fatalf("accepted manifest %+v", m)
		}
		for i, p := range []string{chart, filepath.Join(out, bundleNodeImage), filepath.Join(out, bundleImages)} {
			e, err := fileEntry(m.Files[i].Name, p)
			if err != nil || e != m.Files[i] {
				t.Errorf("extracted %s is %+v (%v), the manifest says %+v", p, e, err, m.Files[i])
			}
		}
	})
}
