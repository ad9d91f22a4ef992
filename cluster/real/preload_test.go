package real

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// labImagesCache keeps labImages' renders: six renders of the chart are
// seconds under the race detector, and every test wants the same list.
var labImagesCache struct {
	sync.Mutex
	m map[bool][]Image
}

// labImages are the lab's images with the published 1.19.5 chart.
func labImages(t *testing.T, noDigest bool) []Image {
	t.Helper()
	labImagesCache.Lock()
	defer labImagesCache.Unlock()
	if imgs, ok := labImagesCache.m[noDigest]; ok {
		return slices.Clone(imgs)
	}
	ch, err := loader.Load(chartPath(t, "1.19.5"))
	if err != nil {
		t.Fatal(err)
	}
	imgs, err := LabImages(ch, "", nil, noDigest)
	if err != nil {
		t.Fatal(err)
	}
	if labImagesCache.m == nil {
		labImagesCache.m = map[bool][]Image{}
	}
	labImagesCache.m[noDigest] = imgs
	return slices.Clone(imgs)
}

// TestPullImages pulls into a fake engine: pinned images by digest, then
// tagged with their names; what is there already is not pulled; a second
// pull pulls nothing.
func TestPullImages(t *testing.T) {
	imgs := labImages(t, false)
	eng := newFakeEngine("docker.io/library/busybox:1.37.0")
	var progress []string
	r, err := PullImages(context.Background(), eng, imgs, func(s string) { progress = append(progress, s) })
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Present) != 1 || len(r.Pulled) != len(imgs)-1 {
		t.Errorf("pulled %d, present %d of %d", len(r.Pulled), len(r.Present), len(imgs))
	}
	for _, img := range imgs {
		if img.Name == "docker.io/library/busybox:1.37.0" {
			if slices.ContainsFunc(eng.pulls, func(p string) bool { return strings.HasPrefix(p, "docker.io/library/busybox") }) {
				t.Errorf("busybox was there and was pulled: %q", eng.pulls)
			}
			continue
		}
		want := img.Name
		if img.Digest != "" {
			want = repository(img.Name) + "@" + img.Digest
			if !slices.Contains(eng.tags, [2]string{want, img.Name}) {
				t.Errorf("%s pulled by digest but not tagged %s: %q", want, img.Name, eng.tags)
			}
		}
		if !slices.Contains(eng.pulls, want) {
			t.Errorf("did not pull %s: %q", want, eng.pulls)
		}
		if _, ok, _ := eng.Inspect(context.Background(), img.Name); !ok {
			t.Errorf("the engine has no %s after the pull", img.Name)
		}
	}
	var sum int64
	for _, img := range imgs {
		info, _, _ := eng.Inspect(context.Background(), img.Name)
		sum += info.Size
	}
	if r.Bytes != sum || len(progress) < len(imgs) {
		t.Errorf("bytes %d, want %d; progress %q", r.Bytes, sum, progress)
	}
	n := len(eng.pulls)
	if r, err := PullImages(context.Background(), eng, imgs, func(string) {}); err != nil || len(r.Pulled) != 0 || len(eng.pulls) != n {
		t.Errorf("second pull: %+v %v, pulls %q", r, err, eng.pulls[n:])
	}
}

// TestPullImagesOffline: a failed pull names the image and says what to do
// with no network.
func TestPullImagesOffline(t *testing.T) {
	eng := newFakeEngine()
	eng.offline = true
	_, err := PullImages(context.Background(), eng, labImages(t, false), func(string) {})
	if err == nil || !strings.Contains(err.Error(), "pull kindest/node@sha256:") || !strings.Contains(cluster.HintOf(err), "--bundle") {
		t.Errorf("offline pull: %v (hint %q)", err, cluster.HintOf(err))
	}
}

// preloadBackend is a test backend whose kind can load images into nodes
// and whose engine holds the given images.
func preloadBackend(t *testing.T, eng *fakeEngine, tweak ...func(*Options)) (*testBackend, *fakeNodes) {
	nodes := &fakeNodes{}
	fk := &fakeKind{}
	tb := newTestBackend(t, chartPath(t, "1.19.5"), newFakeCluster(), newFakeCluster(), append([]func(*Options){func(o *Options) {
		o.Kind = func(ctx context.Context, log cluster.Logger) (KindProvider, error) {
			return kindWithNodes{fk, nodes}, nil
		}
		o.Preload = true
		o.ImageEngine = eng
		o.ChartCacheDir = t.TempDir()
	}}, tweak...)...)
	return tb, nodes
}

// TestPreloadIntoEveryNode: creating both clusters at once loads one
// archive, saved once from the engine, into each of the six nodes, and
// says how many bytes the nodes did not pull.
func TestPreloadIntoEveryNode(t *testing.T) {
	imgs := labImages(t, true)
	eng := newFakeEngine(names(imgs)...)
	tb, nodes := preloadBackend(t, eng)
	log := createBoth(t, tb)
	if len(eng.saves) != 1 {
		t.Fatalf("saved %d archives, want 1 for both clusters", len(eng.saves))
	}
	if slices.Contains(eng.saves[0], cluster.DefaultNodeImage) || slices.Contains(eng.saves[0], imgs[0].Name) {
		t.Errorf("the node image went into the nodes: %q", eng.saves[0])
	}
	if len(nodes.loaded) != 6 {
		t.Errorf("loaded into %d nodes, want 6: %v", len(nodes.loaded), nodes.loaded)
	}
	for n, tags := range nodes.loaded {
		hasAll(t, n, tags, nodeImages(imgs))
	}
	size := nodes.bytes["us-worker"]
	for _, c := range cluster.Names() {
		want := "Preloaded " + humanBytes(int64(size)) + " into 3 nodes of " + string(c)
		if !log.has(want) || !log.has(humanBytes(int64(3*size))+" the nodes did not pull from registries") {
			t.Errorf("log lacks %q and the bytes saved:\n%s", want, log)
		}
	}
	if len(eng.pulls) != 0 {
		t.Errorf("the preload pulled %q", eng.pulls)
	}
}

// TestPreloadRetried: a preload that fails leaves the cluster created; the
// step's retry reuses the cluster and loads the images then, and a later
// run reusing it does not load them again.
func TestPreloadRetried(t *testing.T) {
	imgs := labImages(t, true)
	eng := newFakeEngine(names(imgs)...)
	tb, nodes := preloadBackend(t, eng)
	nodes.fail = errors.New("ctr: failed to import")
	err := tb.CreateCluster(context.Background(), cluster.US, &lines{})
	if err == nil || !strings.Contains(err.Error(), "preload the images into us") || !strings.Contains(cluster.HintOf(err), "retry") {
		t.Fatalf("err %v", err)
	}
	nodes.fail = nil
	log := &lines{}
	if err := tb.CreateCluster(context.Background(), cluster.US, log); err != nil {
		t.Fatal(err)
	}
	if !log.has("reusing it") || len(nodes.loaded) != 3 {
		t.Errorf("retry: loaded %v\n%s", nodes.loaded, log)
	}
	log = &lines{}
	if err := tb.CreateCluster(context.Background(), cluster.US, log); err != nil {
		t.Fatal(err)
	}
	if log.has("Loading the lab's images") || len(nodes.loaded["us-worker"]) != len(nodeImages(imgs)) {
		t.Errorf("loaded again on reuse:\n%s", log)
	}
}

// TestPreloadReportsTimeSaved: after `images pull` measured the speed of
// pulls here, the preload says how long the nodes' own pulls would have
// taken; `images pull` records that speed.
func TestPreloadReportsTimeSaved(t *testing.T) {
	imgs := labImages(t, true)
	eng := newFakeEngine(names(imgs)[1:]...)
	tb, nodes := preloadBackend(t, eng)
	if _, err := tb.PullImages(context.Background(), &lines{}); err != nil {
		t.Fatal(err)
	}
	dir, _ := tb.imageCacheDir()
	raw, err := os.ReadFile(filepath.Join(dir, pullStatsFile))
	if err != nil || !strings.Contains(string(raw), `"bytes":`) {
		t.Fatalf("images pull kept no speed: %s %v", raw, err)
	}
	// A known speed: 1000 bytes a second.
	if err := os.WriteFile(filepath.Join(dir, pullStatsFile), []byte(`{"bytes":1000,"seconds":1}`), 0o644); err != nil {
		t.Fatal(err)
	}
	log := &lines{}
	if err := tb.CreateCluster(context.Background(), cluster.US, log); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	est := time.Duration(float64(3*nodes.bytes["us-worker"]) / 1000 * float64(time.Second)).Round(time.Second)
	if want := "the nodes' own pulls would have taken about " + est.String(); !log.has(want) {
		t.Errorf("log lacks %q:\n%s", want, log)
	}
}

// TestPreloadMissingImages: without `images pull` first, the create step
// fails before loading anything, naming the images and the command.
func TestPreloadMissingImages(t *testing.T) {
	imgs := labImages(t, true)
	eng := newFakeEngine(names(imgs)[:3]...)
	tb, nodes := preloadBackend(t, eng)
	err := tb.CreateCluster(context.Background(), cluster.US, &lines{})
	if !errors.Is(err, ErrImagesMissing) || !strings.Contains(err.Error(), "docker.io/library/nginx:1.27.5-alpine") || !strings.Contains(cluster.HintOf(err), "clustermesh-lab images pull") {
		t.Errorf("err %v, hint %q", err, cluster.HintOf(err))
	}
	if len(nodes.loaded) != 0 || len(eng.saves) != 0 {
		t.Errorf("loaded %v, saved %v", nodes.loaded, eng.saves)
	}
}

// TestPreloadInstallsWithoutDigests: the chart is installed asking for the
// images by the names the nodes hold them by; without preload, by digest.
func TestPreloadInstallsWithoutDigests(t *testing.T) {
	for _, preload := range []bool{true, false} {
		fcs := map[cluster.Name]*fakeCluster{}
		for _, c := range cluster.Names() {
			fcs[c] = newFakeCluster(append(kindNodes(c), kubeSystem())...)
		}
		tb := newTestBackend(t, chartPath(t, "1.19.5"), fcs[cluster.US], fcs[cluster.EU], func(o *Options) { o.Preload = preload })
		log := &lines{}
		if err := tb.InstallCilium(context.Background(), cluster.US, log); err != nil {
			t.Fatalf("%v\n%s", err, log)
		}
		var imgs []string
		for _, doc := range releaseutil.SplitManifests(tb.helm.last(t, cluster.US).Manifest) {
			refs, err := manifestImages([]byte(doc))
			if err != nil {
				t.Fatal(err)
			}
			imgs = append(imgs, refs...)
		}
		if len(imgs) == 0 {
			t.Fatal("the release names no images")
		}
		for _, ref := range imgs {
			if strings.Contains(ref, "@sha256:") == preload {
				t.Errorf("preload=%v: the release asks for %s", preload, ref)
			}
		}
		if preload != log.has("useDigest=false") {
			t.Errorf("preload=%v, log:\n%s", preload, log)
		}
	}
}

// createBoth creates both clusters at once, as the create step does, and
// returns what they logged.
func createBoth(t *testing.T, tb *testBackend) *lines {
	t.Helper()
	log := &lines{}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, c := range cluster.Names() {
		wg.Go(func() { errs[i] = tb.CreateCluster(context.Background(), c, log) })
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		t.Fatalf("%v\n%s", err, log)
	}
	return log
}
