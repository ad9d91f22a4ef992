package real

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// writeTestBundle writes a bundle of the published chart of version and a
// small fake image archive of the lab's images; it returns the bundle's
// path and the images.
func writeTestBundle(t *testing.T, version string) (string, []Image) {
	t.Helper()
	dir := t.TempDir()
	imgs := labImages(t, true)
	imgs[0] = ParseImage(imgs[0].Name, ForNode)
	nodeArchive := filepath.Join(dir, "node.tar")
	archive := filepath.Join(dir, "images.tar")
	if err := os.WriteFile(nodeArchive, fakeArchive(names(imgs[:1])), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, fakeArchive(names(imgs[1:])), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	m := BundleManifest{Created: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), CiliumVersion: "1.19.5", NodeImage: imgs[0].Name, Kubernetes: "v1.35.8", Images: imgs}
	if _, err := WriteBundle(f, m, chartPath(t, version), nodeArchive, archive); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
	return path, imgs
}

func sha(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

// TestBundleVerify: a bundle as written verifies, and its manifest records
// each file's SHA256 as computed from the files themselves.
func TestBundleVerify(t *testing.T) {
	path, imgs := writeTestBundle(t, "1.19.5")
	m, err := VerifyBundle(path)
	if err != nil {
		t.Fatal(err)
	}
	if m.CiliumVersion != "1.19.5" || m.NodeImage != "kindest/node:v1.35.8" || len(m.Images) != len(imgs) || len(m.Files) != 3 {
		t.Errorf("manifest %+v", m)
	}
	if m.Files[0].Name != "cilium-1.19.5.tgz" || m.Files[0].SHA256 != sha(t, chartPath(t, "1.19.5")) || m.Files[0].SHA256 != publishedCharts["1.19.5"] {
		t.Errorf("chart entry %+v", m.Files[0])
	}
	dir := t.TempDir()
	m2, chart, err := OpenBundle(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	if sha(t, chart) != publishedCharts["1.19.5"] || sha(t, filepath.Join(dir, bundleNodeImage)) != m2.Files[1].SHA256 || sha(t, filepath.Join(dir, bundleImages)) != m2.Files[2].SHA256 {
		t.Error("the extracted files are not the bundle's")
	}
}

// TestBundleTampered: every way a bundle can be damaged or changed is
// refused with a message naming the file and what to do, and OpenBundle
// leaves nothing extracted behind.
func TestBundleTampered(t *testing.T) {
	path, _ := writeTestBundle(t, "1.19.5")
	good, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	at := func(sub string) int {
		i := bytes.Index(good, []byte(sub))
		if i < 0 {
			t.Fatalf("no %q in the bundle", sub)
		}
		return i
	}
	flip := func(i int) []byte {
		b := bytes.Clone(good)
		b[i] ^= 0x20
		return b
	}
	m, _ := VerifyBundle(path)
	otherSum := strings.Repeat("0", 64)
	for _, tc := range []struct {
		name, want string
		data       []byte
	}{
		{"an image changed", "images.tar is damaged or was changed", flip(at("layer of quay.io/cilium/cilium:") + 3)},
		{"the chart changed", "cilium-1.19.5.tgz is damaged or was changed", flip(at("cilium-1.19.5.tgz\x00") + 1024 + 100)},
		{"the manifest's sum changed", "images.tar is damaged or was changed", bytes.Replace(good, []byte(m.Files[2].SHA256), []byte(otherSum), 1)},
		{"the node image changed", "node-image.tar is damaged or was changed", flip(at("layer of kindest/node:") + 3)},
		{"cut short", "images.tar", good[:len(good)-3000]},
		{"not a bundle", "does not start with manifest.json", []byte("PK\x03\x04 a zip file, not a bundle")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			bad := filepath.Join(t.TempDir(), "lab.bundle")
			if err := os.WriteFile(bad, tc.data, 0o644); err != nil {
				t.Fatal(err)
			}
			_, err := VerifyBundle(bad)
			if !errors.Is(err, ErrBundleInvalid) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(cluster.HintOf(err), "bundle verify") {
				t.Errorf("VerifyBundle: %v (hint %q), want %q", err, cluster.HintOf(err), tc.want)
			}
			dir := t.TempDir()
			if _, _, err := OpenBundle(bad, dir); !errors.Is(err, ErrBundleInvalid) {
				t.Errorf("OpenBundle: %v", err)
			}
			if left, _ := os.ReadDir(dir); len(left) != 0 {
				t.Errorf("a refused bundle left %v behind", left)
			}
		})
	}
}

// TestBundleWithAnotherChart: a bundle whose chart and manifest were both
// replaced consistently still carries a chart that is not the published
// package of the version it claims, and is refused.
func TestBundleWithAnotherChart(t *testing.T) {
	path, _ := writeTestBundle(t, "1.20.0")
	if _, err := VerifyBundle(path); !errors.Is(err, ErrBundleInvalid) || !strings.Contains(err.Error(), "its chart") {
		t.Errorf("VerifyBundle: %v", err)
	}
}

// TestCreateBundle makes a bundle from a fake engine: what is missing is
// pulled by digest first, every image goes in, and it verifies.
func TestCreateBundle(t *testing.T) {
	imgs := labImages(t, true)
	eng := newFakeEngine(names(imgs)[2:]...)
	tb, _ := preloadBackend(t, eng, func(o *Options) { o.Preload = false })
	path := filepath.Join(t.TempDir(), "lab.bundle")
	m, err := tb.CreateBundle(context.Background(), path, &lines{})
	if err != nil {
		t.Fatal(err)
	}
	if len(eng.pulls) != 2 || !strings.Contains(eng.pulls[0], "@sha256:") {
		t.Errorf("pulls %q, want the two missing images by digest", eng.pulls)
	}
	if m.NodeImage != "kindest/node:v1.35.8" || m.Kubernetes != "v1.35.8" || m.CiliumVersion != "1.19.5" {
		t.Errorf("manifest %+v", m)
	}
	if _, err := VerifyBundle(path); err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	if _, _, err := OpenBundle(path, dir); err != nil {
		t.Fatal(err)
	}
	for name, want := range map[string][]Image{bundleNodeImage: imgs[:1], bundleImages: imgs[1:]} {
		f, err := os.Open(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		tags, err := archiveTags(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if len(tags) != len(want) {
			t.Errorf("%s holds %q, want %d images", name, tags, len(want))
		}
		hasAll(t, name, tags, want)
	}
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(path), ".bundle*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// TestBundleRunsOffline creates both clusters from a bundle with an empty
// engine and no network: the bundle's images are loaded into the engine
// once (the node image with them), then into every node; nothing is pulled.
func TestBundleRunsOffline(t *testing.T) {
	path, imgs := writeTestBundle(t, "1.19.5")
	dir := t.TempDir()
	m, chart, err := OpenBundle(path, dir)
	if err != nil {
		t.Fatal(err)
	}
	eng := newFakeEngine()
	eng.offline = true
	tb, nodes := preloadBackend(t, eng, func(o *Options) {
		o.Preload, o.Bundle, o.ChartPath, o.NodeImage = false, path, chart, m.NodeImage
	})
	createBoth(t, tb)
	if eng.loads != 1 || len(eng.pulls) != 0 || len(eng.saves) != 0 {
		t.Errorf("engine: %d loads, pulls %q, saves %q", eng.loads, eng.pulls, eng.saves)
	}
	if _, ok, _ := eng.Inspect(context.Background(), "kindest/node:v1.35.8"); !ok {
		t.Error("the node image is not in the engine")
	}
	if len(nodes.loaded) != 6 {
		t.Errorf("loaded into %d nodes", len(nodes.loaded))
	}
	for n, tags := range nodes.loaded {
		hasAll(t, n, tags, imgs[1:])
		if slices.Contains(tags, m.NodeImage) {
			t.Errorf("the node image went into node %s", n)
		}
	}
}

// TestBundlePreflight: with a bundle, the preflight does not warn that kind
// will pull the node image from Docker Hub: nothing is pulled.
func TestBundlePreflight(t *testing.T) {
	tb := newTestBackend(t, "", nil, nil, func(o *Options) {
		o.Bundle = "/media/usb/lab.bundle"
		o.Preflight = func(context.Context) []cluster.Check {
			return []cluster.Check{{ID: "engine", Name: "Container engine"}, {ID: "image-pulls", Name: "Image pulls", Status: cluster.Warn, Detail: "kind will pull the node image from Docker Hub", Fix: "pull it"}}
		}
	})
	checks := tb.Preflight(context.Background())
	if len(checks) != 2 || checks[1].Status != cluster.Pass || !strings.Contains(checks[1].Detail, "/media/usb/lab.bundle") || checks[1].Fix != "" {
		t.Errorf("checks %+v", checks)
	}
}

// BenchmarkVerifyBundle measures how fast a bundle is checked (read and
// hashed in full), per byte of bundle: what `--bundle` costs before the
// lab starts.
func BenchmarkVerifyBundle(b *testing.B) {
	dir := b.TempDir()
	node := filepath.Join(dir, "node.tar")
	os.WriteFile(node, []byte("node image"), 0o644)
	archive := filepath.Join(dir, "images.tar")
	f, err := os.Create(archive)
	if err != nil {
		b.Fatal(err)
	}
	block := bytes.Repeat([]byte("0123456789abcdef"), 1<<16) // 1 MiB
	for range 256 {
		f.Write(block)
	}
	f.Close()
	path := filepath.Join(dir, "lab.bundle")
	out, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	m := BundleManifest{Created: time.Now().UTC(), CiliumVersion: "1.19.5", NodeImage: "kindest/node:v1.35.8"}
	if _, err := WriteBundle(out, m, chartPath(b, "1.19.5"), node, archive); err != nil {
		b.Fatal(err)
	}
	out.Close()
	fi, _ := os.Stat(path)
	b.SetBytes(fi.Size())
	for b.Loop() {
		if _, err := VerifyBundle(path); err != nil {
			b.Fatal(err)
		}
	}
}
