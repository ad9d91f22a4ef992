package real

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"testing"
)

// fakeEngine is a container engine in memory. Its registry serves any
// reference; an image's content is made from its name, so a test can tell
// images apart in an archive. Save writes a small archive of docker
// save's layout (manifest.json with RepoTags, one blob per image); Load
// reads one back.
type fakeEngine struct {
	mu      sync.Mutex
	images  map[string]ImageInfo // by every name and reference that finds it
	offline bool                 // pulls fail, as with no network
	pulls   []string
	tags    [][2]string
	saves   [][]string
	loads   int
}

func newFakeEngine(have ...string) *fakeEngine {
	e := &fakeEngine{images: map[string]ImageInfo{}}
	for _, name := range have {
		e.images[name] = fakeInfo(name)
	}
	return e
}

func fakeInfo(name string) ImageInfo {
	sum := sha256.Sum256([]byte(name))
	return ImageInfo{ID: "sha256:" + hex.EncodeToString(sum[:]), Size: int64(1000 + len(name))}
}

func (e *fakeEngine) Inspect(ctx context.Context, ref string) (ImageInfo, bool, error) {
	e.mu.Lock()
	defer e.mu.Unlock()
	info, ok := e.images[ref]
	return info, ok, nil
}

func (e *fakeEngine) Pull(ctx context.Context, ref string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.pulls = append(e.pulls, ref)
	if e.offline {
		return fmt.Errorf("docker pull: dial tcp: lookup registry-1.docker.io: no such host")
	}
	e.images[ref] = fakeInfo(ref)
	return nil
}

func (e *fakeEngine) Tag(ctx context.Context, src, dst string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	info, ok := e.images[src]
	if !ok {
		return fmt.Errorf("no such image %s", src)
	}
	e.tags = append(e.tags, [2]string{src, dst})
	e.images[dst] = info
	return nil
}

func (e *fakeEngine) Save(ctx context.Context, w io.Writer, refs []string) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range refs {
		if _, ok := e.images[r]; !ok {
			return fmt.Errorf("no such image %s", r)
		}
	}
	e.saves = append(e.saves, slices.Clone(refs))
	_, err := w.Write(fakeArchive(refs))
	return err
}

func (e *fakeEngine) Load(ctx context.Context, r io.Reader) error {
	tags, err := archiveTags(r)
	if err != nil {
		return err
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	e.loads++
	for _, t := range tags {
		e.images[t] = fakeInfo(t)
	}
	return nil
}

// fakeArchive is a tiny image archive of docker save's layout.
func fakeArchive(refs []string) []byte {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	type entry struct {
		Config   string
		RepoTags []string
		Layers   []string
	}
	var manifest []entry
	for i, r := range refs {
		blob := []byte("layer of " + r)
		name := fmt.Sprintf("blobs/%d.tar", i)
		tw.WriteHeader(&tar.Header{Name: name, Mode: 0o644, Size: int64(len(blob))})
		tw.Write(blob)
		manifest = append(manifest, entry{Config: name, RepoTags: []string{r}, Layers: []string{name}})
	}
	raw, _ := json.Marshal(manifest)
	tw.WriteHeader(&tar.Header{Name: "manifest.json", Mode: 0o644, Size: int64(len(raw))})
	tw.Write(raw)
	tw.Close()
	return buf.Bytes()
}

// archiveTags reads the RepoTags of an archive of fakeArchive's layout.
func archiveTags(r io.Reader) ([]string, error) {
	tr := tar.NewReader(r)
	for {
		hdr, err := tr.Next()
		if err != nil {
			return nil, fmt.Errorf("no manifest.json in the archive: %w", err)
		}
		if hdr.Name != "manifest.json" {
			continue
		}
		var m []struct{ RepoTags []string }
		if err := json.NewDecoder(tr).Decode(&m); err != nil {
			return nil, err
		}
		var out []string
		for _, e := range m {
			out = append(out, e.RepoTags...)
		}
		return out, nil
	}
}

// fakeNodes stands for kind's node loading: each cluster has three nodes,
// and each node keeps the tags of the archives loaded into it.
type fakeNodes struct {
	mu     sync.Mutex
	loaded map[string][]string // node -> tags
	bytes  map[string]int
	fail   error
}

func (f *fakeNodes) LoadArchive(cluster string, open func() (io.ReadCloser, error)) (int, error) {
	if f.fail != nil {
		return 0, f.fail
	}
	nodes := []string{cluster + "-control-plane", cluster + "-worker", cluster + "-worker2"}
	for _, n := range nodes {
		rc, err := open()
		if err != nil {
			return 0, err
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			return 0, err
		}
		tags, err := archiveTags(bytes.NewReader(raw))
		if err != nil {
			return 0, err
		}
		f.mu.Lock()
		if f.loaded == nil {
			f.loaded, f.bytes = map[string][]string{}, map[string]int{}
		}
		f.loaded[n] = append(f.loaded[n], tags...)
		f.bytes[n] += len(raw)
		f.mu.Unlock()
	}
	return len(nodes), nil
}

// kindWithNodes is the fake kind provider that can also load images.
type kindWithNodes struct {
	*fakeKind
	*fakeNodes
}

func hasAll(t *testing.T, where string, got []string, want []Image) {
	t.Helper()
	for _, img := range want {
		if !slices.Contains(got, img.Name) {
			t.Errorf("%s lacks %s (has %s)", where, img.Name, strings.Join(got, ", "))
		}
	}
}
