package real

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sigs.k8s.io/kind/pkg/cluster/nodeutils"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// ImageLoader loads an image archive into every node of a kind cluster, as
// `kind load image-archive` does (kind's nodeutils.LoadImageArchive, which
// runs `ctr images import` in the node). open gives a fresh reader for each
// node. kind's own provider implements it; tests use a fake.
type ImageLoader interface {
	LoadArchive(cluster string, open func() (io.ReadCloser, error)) (nodes int, err error)
}

var _ ImageLoader = kindLibrary{}

// LoadArchive implements ImageLoader with kind's node utilities.
func (k kindLibrary) LoadArchive(name string, open func() (io.ReadCloser, error)) (int, error) {
	nodes, err := k.Provider.ListInternalNodes(name)
	if err != nil {
		return 0, fmt.Errorf("list the nodes of %s: %w", name, err)
	}
	for _, n := range nodes {
		f, err := open()
		if err != nil {
			return 0, err
		}
		err = nodeutils.LoadImageArchive(n, f)
		f.Close()
		if err != nil {
			return 0, fmt.Errorf("load images into node %s: %w", n.String(), err)
		}
	}
	return len(nodes), nil
}

// PullResult is what `images pull` did.
type PullResult struct {
	// Pulled are the images pulled now, Present those already there.
	Pulled, Present []Image
	// Bytes is the unpacked size of all the images, as the engine reports
	// it; PulledBytes that of the images pulled now.
	Bytes, PulledBytes int64
	// Took is how long the pulls took.
	Took time.Duration
}

// repository is a name without its tag: quay.io/cilium/cilium:v1.19.5 is
// quay.io/cilium/cilium.
func repository(name string) string {
	slash := strings.LastIndex(name, "/")
	if colon := strings.LastIndex(name, ":"); colon > slash {
		return name[:colon]
	}
	return name
}

// PullImages pulls every image the engine does not have yet, each once. A
// digest-pinned image is pulled by its digest (the registry proves it is
// the published one) and then tagged with its name, which is how the
// nodes will ask for it once preloaded. progress gets one line per image.
func PullImages(ctx context.Context, eng ImageEngine, imgs []Image, progress func(string)) (PullResult, error) {
	var r PullResult
	start := time.Now()
	for _, img := range imgs {
		info, ok, err := eng.Inspect(ctx, img.Name)
		if err != nil {
			return r, err
		}
		if ok {
			r.Present = append(r.Present, img)
			r.Bytes += info.Size
			progress(fmt.Sprintf("✓ %s (already here, %s)", img.Name, humanBytes(info.Size)))
			continue
		}
		src := img.Ref
		if img.Digest != "" {
			src = repository(img.Name) + "@" + img.Digest
		}
		progress("↓ " + src)
		if err := eng.Pull(ctx, src); err != nil {
			return r, cluster.WithHint(fmt.Errorf("pull %s: %w", src, err),
				"check the network and the engine (clustermesh-lab doctor); with no network, run from an instructor's bundle: clustermesh-lab --bundle FILE")
		}
		if src != img.Name {
			if err := eng.Tag(ctx, src, img.Name); err != nil {
				return r, fmt.Errorf("tag %s as %s: %w", src, img.Name, err)
			}
		}
		info, ok, err = eng.Inspect(ctx, img.Name)
		if err != nil {
			return r, err
		}
		if !ok {
			return r, fmt.Errorf("the engine pulled %s but has no image %s", src, img.Name)
		}
		r.Pulled = append(r.Pulled, img)
		r.Bytes += info.Size
		r.PulledBytes += info.Size
		progress(fmt.Sprintf("✓ %s (%s)", img.Name, humanBytes(info.Size)))
	}
	r.Took = time.Since(start)
	return r, nil
}

// humanBytes formats a size in MB or GB, as the engines do.
func humanBytes(n int64) string {
	switch {
	case n >= 1e9:
		return fmt.Sprintf("%.2f GB", float64(n)/1e9)
	case n >= 1e6:
		return fmt.Sprintf("%.0f MB", float64(n)/1e6)
	}
	return fmt.Sprintf("%d kB", n/1000)
}

// nodeImages are the images that go into the nodes: all but the node image.
func nodeImages(imgs []Image) []Image {
	var out []Image
	for _, img := range imgs {
		if img.For != ForNode {
			out = append(out, img)
		}
	}
	return out
}

// ErrImagesMissing marks a preload whose images are not in the engine.
var ErrImagesMissing = errors.New("images to preload are missing")

// imageEngine is the host's engine for the image commands.
func (b *Backend) imageEngine(ctx context.Context) (ImageEngine, error) {
	if b.opts.ImageEngine != nil {
		return b.opts.ImageEngine, nil
	}
	eng, err := b.engine(ctx)
	if err != nil {
		return nil, err
	}
	return CLIEngine{Name: eng.Name}, nil
}

// Images lists every image the lab needs with the backend's chart, node
// image and values (the chart loaded as the install step loads it).
// Preloading, the chart's images are named without digests, as the
// install then asks for them.
func (b *Backend) Images(ctx context.Context, log cluster.Logger) ([]Image, string, error) {
	return b.labImages(ctx, log, b.preloading())
}

// labImages is Images, with the chart's digests or without.
func (b *Backend) labImages(ctx context.Context, log cluster.Logger, noDigest bool) ([]Image, string, error) {
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return nil, "", err
	}
	routeLibraryLogs(b.diag)
	imgs, err := LabImages(lc.chart, b.NodeImage(), b.opts.Values, noDigest)
	return imgs, lc.Version(), err
}

// PullImages pulls every image the lab needs into the host's engine, by
// digest where the chart pins one, named as a preloading lab asks for them.
func (b *Backend) PullImages(ctx context.Context, log cluster.Logger) (PullResult, error) {
	imgs, _, err := b.labImages(ctx, log, false)
	if err != nil {
		return PullResult{}, err
	}
	eng, err := b.imageEngine(ctx)
	if err != nil {
		return PullResult{}, err
	}
	r, err := PullImages(ctx, eng, imgs, func(s string) { log.Logf("%s", s) })
	if err == nil && len(r.Pulled) > 0 {
		b.savePullStats(r)
	}
	return r, err
}

// pullStats is how fast `images pull` pulled here, kept beside the image
// cache so that the preload can say how long the nodes' own pulls would
// have taken.
type pullStats struct {
	Bytes   int64   `json:"bytes"`
	Seconds float64 `json:"seconds"`
}

const pullStatsFile = "pull-stats.json"

// savePullStats records a pull's speed; it is only ever an estimate's
// input, so failing to write it is not an error.
func (b *Backend) savePullStats(r PullResult) {
	dir, err := b.imageCacheDir()
	if err != nil || r.Took <= 0 {
		return
	}
	raw, _ := json.Marshal(pullStats{Bytes: r.PulledBytes, Seconds: r.Took.Seconds()})
	if os.MkdirAll(dir, 0o755) == nil {
		_ = os.WriteFile(filepath.Join(dir, pullStatsFile), raw, 0o644)
	}
}

// pullEstimate is how long pulling n bytes would take at the speed the
// last `images pull` measured here; ok is false without a measurement.
func (b *Backend) pullEstimate(n int64) (time.Duration, bool) {
	dir, err := b.imageCacheDir()
	if err != nil {
		return 0, false
	}
	raw, err := os.ReadFile(filepath.Join(dir, pullStatsFile))
	var s pullStats
	if err != nil || json.Unmarshal(raw, &s) != nil || s.Bytes <= 0 || s.Seconds <= 0 {
		return 0, false
	}
	return time.Duration(float64(n) / float64(s.Bytes) * s.Seconds * float64(time.Second)), true
}

// preloadArchive returns an archive of the images the nodes need, made
// once per process: from the bundle when there is one, else saved from
// the engine into the cache (keyed by the images' IDs, so a later run with
// the same images reuses it).
func (b *Backend) preloadArchive(ctx context.Context, log cluster.Logger) (string, error) {
	b.preloadMu.Lock()
	defer b.preloadMu.Unlock()
	if b.preloadPath != "" {
		return b.preloadPath, nil
	}
	if b.opts.Bundle != "" {
		path, err := b.bundleFile(bundleImages)
		if err != nil {
			return "", err
		}
		log.Logf("Using the images of the bundle %s", b.opts.Bundle)
		b.preloadPath = path
		return path, nil
	}
	imgs, _, err := b.Images(ctx, log)
	if err != nil {
		return "", err
	}
	eng, err := b.imageEngine(ctx)
	if err != nil {
		return "", err
	}
	var missing, names []string
	h := sha256.New()
	for _, img := range nodeImages(imgs) {
		info, ok, err := eng.Inspect(ctx, img.Name)
		if err != nil {
			return "", err
		}
		if !ok {
			missing = append(missing, img.Name)
			continue
		}
		names = append(names, img.Name)
		fmt.Fprintf(h, "%s %s\n", img.Name, info.ID)
	}
	if len(missing) > 0 {
		return "", cluster.WithHint(fmt.Errorf("%w: the %s engine has no %s", ErrImagesMissing, b.engineName(), strings.Join(missing, ", ")),
			"pull them once with `clustermesh-lab images pull` (same --cilium-version, --node-image and --cilium-values), or run without --preload")
	}
	dir, err := b.imageCacheDir()
	if err != nil {
		return "", err
	}
	path := filepath.Join(dir, "preload-"+hex.EncodeToString(h.Sum(nil))[:16]+".tar")
	if _, err := os.Stat(path); err == nil {
		log.Logf("Reusing the image archive %s", path)
		b.preloadPath = path
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	tmp, err := os.CreateTemp(dir, ".save-*")
	if err != nil {
		return "", err
	}
	defer os.Remove(tmp.Name())
	log.Logf("Saving %d images from the %s engine for the nodes ...", len(names), b.engineName())
	if err := eng.Save(ctx, tmp, names); err != nil {
		tmp.Close()
		return "", fmt.Errorf("save the images to preload: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return "", err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return "", err
	}
	b.preloadPath = path
	return path, nil
}

// engineName names the engine in messages, "container" when unknown.
func (b *Backend) engineName() string {
	if b.engineFound != nil {
		return b.engineFound.Name
	}
	return "container"
}

// imageCacheDir keeps the preload archives beside the chart cache.
func (b *Backend) imageCacheDir() (string, error) {
	charts, err := b.chartCacheDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(filepath.Dir(charts), "images"), nil
}

// preload loads the lab's images into every node of c, once the cluster
// is up, instead of each node pulling each image from its registry, and
// says what that saved.
func (b *Backend) preload(ctx context.Context, c cluster.Name, p KindProvider, log cluster.Logger) error {
	loader, ok := p.(ImageLoader)
	if !ok {
		return errors.New("this kind provider cannot load images into nodes")
	}
	path, err := b.preloadArchive(ctx, log)
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	start := time.Now()
	log.Logf("Loading the lab's images (%s) into every node of %s, as `kind load image-archive` does ...", humanBytes(fi.Size()), c)
	n, err := loader.LoadArchive(string(c), func() (io.ReadCloser, error) { return os.Open(path) })
	if err != nil {
		return cluster.WithHint(fmt.Errorf("preload the images into %s: %w", c, err),
			"retry; or run without --preload, and the nodes pull the images themselves")
	}
	took := time.Since(start)
	log.Logf("Preloaded %s into %d nodes of %s in %s: %s the nodes did not pull from registries",
		humanBytes(fi.Size()), n, c, took.Round(100*time.Millisecond), humanBytes(int64(n)*fi.Size()))
	if est, ok := b.pullEstimate(int64(n) * fi.Size()); ok {
		log.Logf("At the speed `images pull` measured here, the nodes' own pulls would have taken about %s: %s saved",
			est.Round(time.Second), max(est-took, 0).Round(time.Second))
	}
	return nil
}

// preloading reports whether the nodes get their images from the host
// (--preload, or a bundle, which has no other way).
func (b *Backend) preloading() bool { return b.opts.Preload || b.opts.Bundle != "" }

// preloadRecorded preloads c's nodes and records that it did.
func (b *Backend) preloadRecorded(ctx context.Context, c cluster.Name, p KindProvider, log cluster.Logger) error {
	if err := b.preload(ctx, c, p, log); err != nil {
		return err
	}
	return b.updateRecord(func(r *record) {
		e := r.Clusters[c]
		e.Preloaded = true
		r.Clusters[c] = e
	})
}
