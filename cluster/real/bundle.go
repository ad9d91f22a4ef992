package real

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// A bundle is one uncompressed tar an instructor copies onto USB sticks:
// manifest.json first (versions, the images, each file's size and SHA256),
// then the chart package, node-image.tar (the engine's `save` of the node
// image, which goes into the engine for kind) and images.tar (every other
// image, which goes into the nodes: the node image, over 2 GB, would be
// dead weight in each of six nodes). A tar can be read as a stream, so
// verifying needs no room beside it.
const (
	bundleFormat    = 1
	bundleManifest  = "manifest.json"
	bundleNodeImage = "node-image.tar"
	bundleImages    = "images.tar"
)

// ErrBundleInvalid marks a bundle that is damaged, tampered with, or no
// bundle at all: it is refused before anything of it is used.
var ErrBundleInvalid = errors.New("invalid bundle")

// BundleFile is one file of a bundle, as its manifest records it.
type BundleFile struct {
	Name   string `json:"name"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// BundleManifest is a bundle's manifest.json.
type BundleManifest struct {
	// Format is the bundle format's version (1).
	Format int `json:"format"`
	// Created is when the bundle was made (UTC).
	Created time.Time `json:"created"`
	// CiliumVersion is the chart's version.
	CiliumVersion string `json:"ciliumVersion"`
	// NodeImage is the kind node image by name: an image loaded from an
	// archive has no registry digest to be found by.
	NodeImage string `json:"nodeImage"`
	// Kubernetes is the node image's Kubernetes version.
	Kubernetes string `json:"kubernetes"`
	// Images are the images in images.tar.
	Images []Image `json:"images"`
	// Files are the chart package and images.tar, in the bundle's order.
	Files []BundleFile `json:"files"`
}

// chartFile is the manifest's entry of the chart package.
func (m BundleManifest) chartFile() (BundleFile, bool) {
	i := slices.IndexFunc(m.Files, func(f BundleFile) bool { return f.Name != bundleImages && f.Name != bundleNodeImage })
	if i < 0 {
		return BundleFile{}, false
	}
	return m.Files[i], true
}

// hashFile copies r to w and returns the size and SHA256 of what it copied.
func hashCopy(w io.Writer, r io.Reader) (int64, string, error) {
	h := sha256.New()
	n, err := io.Copy(io.MultiWriter(w, h), r)
	return n, hex.EncodeToString(h.Sum(nil)), err
}

// fileEntry describes a file on disk for the manifest.
func fileEntry(name, path string) (BundleFile, error) {
	f, err := os.Open(path)
	if err != nil {
		return BundleFile{}, err
	}
	defer f.Close()
	n, sum, err := hashCopy(io.Discard, f)
	return BundleFile{Name: name, Size: n, SHA256: sum}, err
}

// WriteBundle writes a bundle to w from the chart package at chartPath, the
// node image's archive at nodeImagePath and the other images' archive at
// imagesPath; m's Files are filled in.
func WriteBundle(w io.Writer, m BundleManifest, chartPath, nodeImagePath, imagesPath string) (BundleManifest, error) {
	paths := []string{chartPath, nodeImagePath, imagesPath}
	m.Format = bundleFormat
	m.Files = nil
	for i, name := range []string{filepath.Base(chartPath), bundleNodeImage, bundleImages} {
		e, err := fileEntry(name, paths[i])
		if err != nil {
			return m, fmt.Errorf("read %s for the bundle: %w", paths[i], err)
		}
		m.Files = append(m.Files, e)
	}
	raw, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return m, err
	}
	tw := tar.NewWriter(w)
	if err := tw.WriteHeader(&tar.Header{Name: bundleManifest, Mode: 0o644, Size: int64(len(raw)), ModTime: m.Created, Typeflag: tar.TypeReg}); err != nil {
		return m, err
	}
	if _, err := tw.Write(raw); err != nil {
		return m, err
	}
	for i, path := range paths {
		e := m.Files[i]
		f, err := os.Open(path)
		if err != nil {
			return m, err
		}
		err = tw.WriteHeader(&tar.Header{Name: e.Name, Mode: 0o644, Size: e.Size, ModTime: m.Created, Typeflag: tar.TypeReg})
		if err == nil {
			var n int64
			var sum string
			n, sum, err = hashCopy(tw, f)
			if err == nil && (n != e.Size || sum != e.SHA256) {
				err = fmt.Errorf("%s changed while the bundle was written", path)
			}
		}
		f.Close()
		if err != nil {
			return m, fmt.Errorf("write %s into the bundle: %w", e.Name, err)
		}
	}
	return m, tw.Close()
}

// invalid wraps a bundle problem with ErrBundleInvalid and the usual fix.
func invalid(path, format string, args ...any) error {
	return cluster.WithHint(fmt.Errorf("%w %s: %s", ErrBundleInvalid, path, fmt.Sprintf(format, args...)),
		"copy the bundle again from the instructor's original (or make it again with `clustermesh-lab bundle create`), then `clustermesh-lab bundle verify` it")
}

// readBundle reads a bundle from start to end, checking every file against
// the manifest; keep, when not nil, gets each file's content as it is read
// (extract) and may return nil to skip it. Nothing is trusted before the
// whole bundle has been checked: callers use what keep wrote only when
// readBundle returns no error.
func readBundle(path string, keep func(BundleFile) (io.Writer, error)) (BundleManifest, error) {
	var m BundleManifest
	f, err := os.Open(path)
	if err != nil {
		return m, cluster.WithHint(fmt.Errorf("open the bundle: %w", err), "give the path of a file made by `clustermesh-lab bundle create`")
	}
	defer f.Close()
	tr := tar.NewReader(f)
	hdr, err := tr.Next()
	if err != nil || hdr.Name != bundleManifest {
		return m, invalid(path, "it does not start with %s (is it a bundle?)", bundleManifest)
	}
	dec := json.NewDecoder(io.LimitReader(tr, 1<<20))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, invalid(path, "its %s does not read: %v", bundleManifest, err)
	}
	if m.Format != bundleFormat {
		return m, invalid(path, "format %d, this clustermesh-lab reads format %d", m.Format, bundleFormat)
	}
	if c, ok := m.chartFile(); !ok || len(m.Files) != 3 || m.Files[0] != c || m.Files[1].Name != bundleNodeImage || m.Files[2].Name != bundleImages || m.CiliumVersion == "" || m.NodeImage == "" {
		return m, invalid(path, "its manifest lacks the chart, the images or their versions")
	}
	for _, want := range m.Files {
		hdr, err := tr.Next()
		if err != nil {
			return m, invalid(path, "%s is missing (the file is cut short?): %v", want.Name, err)
		}
		if hdr.Name != want.Name {
			return m, invalid(path, "holds %s where the manifest says %s", hdr.Name, want.Name)
		}
		w := io.Discard
		if keep != nil {
			kw, err := keep(want)
			if err != nil {
				return m, err
			}
			if kw != nil {
				w = kw
			}
		}
		n, sum, err := hashCopy(w, tr)
		if err != nil {
			return m, invalid(path, "reading %s: %v", want.Name, err)
		}
		if n != want.Size || sum != want.SHA256 {
			return m, invalid(path, "%s is damaged or was changed: %d bytes with SHA256 %s, the manifest says %d bytes with SHA256 %s", want.Name, n, sum, want.Size, want.SHA256)
		}
	}
	if hdr, err := tr.Next(); err != io.EOF {
		name := "something"
		if hdr != nil {
			name = hdr.Name
		}
		return m, invalid(path, "holds %s the manifest does not list", name)
	}
	return m, nil
}

// VerifyBundle checks a whole bundle against its manifest: every file
// there, of its size and SHA256, nothing else; and the chart, when of a
// version the lab knows, the published package.
func VerifyBundle(path string) (BundleManifest, error) {
	dir, err := os.MkdirTemp("", "clustermesh-lab-verify-*")
	if err != nil {
		return BundleManifest{}, err
	}
	defer os.RemoveAll(dir)
	m, chartPath, err := extractBundle(path, dir, false)
	if err != nil {
		return m, err
	}
	if _, err := CheckChart(chartPath, m.CiliumVersion); err != nil {
		return m, invalid(path, "its chart: %v", err)
	}
	return m, nil
}

// extractBundle verifies the bundle and extracts its chart into dir (and,
// with images, both image archives too), returning the chart's path. Files are
// written under temporary names and renamed only once all of the bundle
// checked out.
func extractBundle(path, dir string, images bool) (BundleManifest, string, error) {
	var files []*os.File
	defer func() {
		for _, f := range files {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	m, err := readBundle(path, func(e BundleFile) (io.Writer, error) {
		if (e.Name == bundleImages || e.Name == bundleNodeImage) && !images {
			return nil, nil
		}
		if e.Name != filepath.Base(e.Name) || e.Name == "." || e.Name == ".." {
			return nil, invalid(path, "names a file %q outside the bundle", e.Name)
		}
		f, err := os.CreateTemp(dir, ".extract-*")
		if err != nil {
			return nil, err
		}
		files = append(files, f)
		return f, nil
	})
	if err != nil {
		return m, "", err
	}
	chartEntry, _ := m.chartFile()
	names := []string{chartEntry.Name}
	if images {
		names = append(names, bundleNodeImage, bundleImages)
	}
	for i, f := range files {
		if err := f.Close(); err != nil {
			return m, "", err
		}
		if err := os.Rename(f.Name(), filepath.Join(dir, names[i])); err != nil {
			return m, "", err
		}
	}
	files = nil
	return m, filepath.Join(dir, chartEntry.Name), nil
}

// OpenBundle verifies the bundle and extracts its chart and images into
// dir (a directory of the lab's cache), returning the manifest and the
// chart's path, for Options.ChartPath. A bundle whose files are already
// there from an earlier run is still read in full: it is verified again.
func OpenBundle(path, dir string) (BundleManifest, string, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return BundleManifest{}, "", err
	}
	m, chartPath, err := extractBundle(path, dir, true)
	if err != nil {
		return m, "", err
	}
	if _, err := CheckChart(chartPath, m.CiliumVersion); err != nil {
		return m, "", invalid(path, "its chart: %v", err)
	}
	return m, chartPath, nil
}

// bundleFile is an archive OpenBundle extracted beside the chart.
func (b *Backend) bundleFile(name string) (string, error) {
	path := filepath.Join(filepath.Dir(b.opts.ChartPath), name)
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("the bundle's %s is not where it was opened: %w", name, err)
	}
	return path, nil
}

// ensureNodeImage loads the bundle's node image into the host's engine
// when it is not there yet: kind creates the nodes from it and, offline,
// cannot pull it.
func (b *Backend) ensureNodeImage(ctx context.Context, log cluster.Logger) error {
	b.nodeImageMu.Lock()
	defer b.nodeImageMu.Unlock()
	eng, err := b.imageEngine(ctx)
	if err != nil {
		return err
	}
	if _, ok, err := eng.Inspect(ctx, b.NodeImage()); err != nil || ok {
		return err
	}
	path, err := b.bundleFile(bundleNodeImage)
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	start := time.Now()
	log.Logf("Loading the bundle's node image %s into the %s engine ...", b.NodeImage(), b.engineName())
	if err := eng.Load(ctx, f); err != nil {
		return fmt.Errorf("load the bundle's node image into the engine: %w", err)
	}
	if _, ok, err := eng.Inspect(ctx, b.NodeImage()); err != nil || !ok {
		return cluster.WithHint(fmt.Errorf("the bundle's %s holds no node image %s (%v)", bundleNodeImage, b.NodeImage(), err), "make the bundle again with `clustermesh-lab bundle create`")
	}
	log.Logf("Loaded in %s", time.Since(start).Round(100*time.Millisecond))
	return nil
}

// CreateBundle writes to path a bundle of the backend's chart and of every
// image the lab needs (pulling into the engine what is missing), for a
// room with no network: `clustermesh-lab bundle create`.
func (b *Backend) CreateBundle(ctx context.Context, path string, log cluster.Logger) (BundleManifest, error) {
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return BundleManifest{}, err
	}
	if fi, err := os.Stat(lc.source); err != nil || fi.IsDir() {
		return BundleManifest{}, cluster.WithHint(fmt.Errorf("the chart %s is a directory: a bundle carries a chart package", lc.source),
			"give a packaged chart (.tgz) with --cilium-chart, or none and the lab pulls the published one")
	}
	routeLibraryLogs(b.diag)
	// With digests: pulled by digest, the registry proves each image.
	imgs, err := LabImages(lc.chart, b.NodeImage(), b.opts.Values, false)
	if err != nil {
		return BundleManifest{}, err
	}
	eng, err := b.imageEngine(ctx)
	if err != nil {
		return BundleManifest{}, err
	}
	if _, err := PullImages(ctx, eng, imgs, func(s string) { log.Logf("%s", s) }); err != nil {
		return BundleManifest{}, err
	}
	dir := filepath.Dir(path)
	save := func(what string, imgs []Image) (string, error) {
		f, err := os.CreateTemp(dir, ".bundle-images-*")
		if err != nil {
			return "", err
		}
		log.Logf("Saving %s ...", what)
		err = eng.Save(ctx, f, names(imgs))
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			os.Remove(f.Name())
			return "", fmt.Errorf("save %s: %w", what, err)
		}
		return f.Name(), nil
	}
	nodeArchive, err := save("the node image", imgs[:1])
	if err != nil {
		return BundleManifest{}, err
	}
	defer os.Remove(nodeArchive)
	imagesArchive, err := save(fmt.Sprintf("%d images for the nodes", len(imgs)-1), nodeImages(imgs))
	if err != nil {
		return BundleManifest{}, err
	}
	defer os.Remove(imagesArchive)
	k8s, _ := cluster.KubernetesVersion(imgs[0].Name)
	m := BundleManifest{Created: time.Now().UTC().Truncate(time.Second), CiliumVersion: lc.Version(), NodeImage: imgs[0].Name, Kubernetes: k8s, Images: imgs}
	out, err := os.CreateTemp(dir, ".bundle-*")
	if err != nil {
		return m, err
	}
	defer os.Remove(out.Name())
	m, err = WriteBundle(out, m, lc.source, nodeArchive, imagesArchive)
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return m, err
	}
	return m, os.Rename(out.Name(), path)
}

// names are the images' names, as the engine saves them.
func names(imgs []Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Name
	}
	return out
}
