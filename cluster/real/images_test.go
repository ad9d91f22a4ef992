package real

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/releaseutil"
	appsv1 "k8s.io/api/apps/v1"
	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// imageChartVersions are the published charts `images list` is tested on.
var imageChartVersions = []string{"1.19.5", "1.20.0"}

// valuesImage is the reference the chart's own values.yaml gives an image
// (repository:tag@digest), read independently of any rendering.
func valuesImage(t *testing.T, ch *chart.Chart, path string) string {
	t.Helper()
	v, ok := lookup(ch.Values, path)
	m, isMap := v.(map[string]any)
	if !ok || !isMap {
		t.Fatalf("chart %s has no %s", ch.Metadata.Version, path)
	}
	return fmt.Sprintf("%s:%s@%s", m["repository"], m["tag"], m["digest"])
}

func refs(imgs []Image) []string {
	out := make([]string, len(imgs))
	for i, img := range imgs {
		out[i] = img.Ref
	}
	return out
}

// TestLabImagesFromPublishedCharts renders each published chart as the lab
// installs and upgrades it: the images of the agent, the operator and the
// clustermesh-apiserver (which only the enable stage turns on) and of
// Hubble Relay and UI (which only the hubble step turns on) are the
// ones the chart's values.yaml pins, by digest; the node image comes first
// and the demo's last.
func TestLabImagesFromPublishedCharts(t *testing.T) {
	for _, version := range imageChartVersions {
		t.Run(version, func(t *testing.T) {
			ch, err := loader.Load(chartPath(t, version))
			if err != nil {
				t.Fatal(err)
			}
			imgs, err := LabImages(ch, "", nil, false)
			if err != nil {
				t.Fatal(err)
			}
			got := refs(imgs)
			if imgs[0].For != ForNode || imgs[0].Ref != cluster.DefaultNodeImage {
				t.Errorf("first image %+v, want the node image %s", imgs[0], cluster.DefaultNodeImage)
			}
			for _, path := range []string{"image", "clustermesh.apiserver.image", "certgen.image", "hubble.relay.image", "hubble.ui.frontend.image", "hubble.ui.backend.image"} {
				if want := valuesImage(t, ch, path); !slices.Contains(got, want) {
					t.Errorf("no %s (%s) in %q", path, want, got)
				}
			}
			var operator bool
			for _, img := range imgs {
				if img.For == ForCilium && img.Digest == "" {
					t.Errorf("%s is not pinned by digest", img.Ref)
				}
				operator = operator || strings.HasPrefix(img.Name, "quay.io/cilium/operator-generic:v"+version)
			}
			if !operator {
				t.Errorf("no operator-generic %s in %q", version, got)
			}
			demo, err := DemoImages()
			if err != nil {
				t.Fatal(err)
			}
			if tail := got[len(got)-len(demo):]; !slices.Equal(tail, refs(demo)) {
				t.Errorf("the list ends with %q, want the demo's %q", tail, refs(demo))
			}

			// Preloading, the same images by name only.
			plain, err := LabImages(ch, "", nil, true)
			if err != nil {
				t.Fatal(err)
			}
			for i, img := range plain {
				switch {
				case img.For == ForNode:
				case img.Digest != "" || strings.Contains(img.Ref, "@"):
					t.Errorf("preloading, %s still has a digest", img.Ref)
				case img.Name != imgs[i].Name:
					t.Errorf("preloading, image %d is %s, want %s", i, img.Name, imgs[i].Name)
				}
			}
		})
	}
}

// TestLabImagesFollowValues: the list is what the chart renders with the
// learner's values, not a kept list: a mirror's repository replaces the
// agent's, Hubble Relay and UI bring their images, another node image is
// listed instead of the default.
func TestLabImagesFollowValues(t *testing.T) {
	ch, err := loader.Load(chartPath(t, "1.19.5"))
	if err != nil {
		t.Fatal(err)
	}
	user := map[string]any{
		"image":  map[string]any{"repository": "mirror.example:5000/cilium/cilium", "useDigest": false},
		"hubble": map[string]any{"relay": map[string]any{"enabled": true}, "ui": map[string]any{"enabled": true}},
	}
	imgs, err := LabImages(ch, "kindest/node:v1.34.3", user, false)
	if err != nil {
		t.Fatal(err)
	}
	got := refs(imgs)
	for _, want := range []string{"kindest/node:v1.34.3", "mirror.example:5000/cilium/cilium:v1.19.5"} {
		if !slices.Contains(got, want) {
			t.Errorf("no %s in %q", want, got)
		}
	}
	for _, prefix := range []string{"quay.io/cilium/hubble-relay:", "quay.io/cilium/hubble-ui:", "quay.io/cilium/hubble-ui-backend:"} {
		if !slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, prefix) }) {
			t.Errorf("Hubble enabled, no %s* in %q", prefix, got)
		}
	}
	if slices.ContainsFunc(got, func(r string) bool { return strings.HasPrefix(r, "quay.io/cilium/cilium:") }) {
		t.Errorf("the agent's image is still quay.io's with a mirror set: %q", got)
	}
}

// TestNoDigestValues: every useDigest of the chart's values is turned off.
func TestNoDigestValues(t *testing.T) {
	for _, version := range imageChartVersions {
		ch, err := loader.Load(chartPath(t, version))
		if err != nil {
			t.Fatal(err)
		}
		off := NoDigestValues(ch)
		n := 0
		var walk func(prefix string, m map[string]any)
		walk = func(prefix string, m map[string]any) {
			for k, v := range m {
				p := strings.TrimPrefix(prefix+"."+k, ".")
				if k == "useDigest" {
					n++
					if got, _ := lookup(off, p); got != false {
						t.Errorf("%s: %s = %v in the preload values, want false", version, p, got)
					}
				}
				if sub, ok := v.(map[string]any); ok {
					walk(p, sub)
				}
			}
		}
		walk("", ch.Values)
		if n < 5 {
			t.Errorf("%s: only %d useDigest values found", version, n)
		}
	}
}

// TestDemoImages reads the demo's images with Kubernetes' own types.
func TestDemoImages(t *testing.T) {
	want := map[string]bool{}
	for _, c := range cluster.Names() {
		raw, err := assets.DemoManifests(string(c))
		if err != nil {
			t.Fatal(err)
		}
		for _, doc := range releaseutil.SplitManifests(string(raw)) {
			var d appsv1.Deployment
			if err := yaml.Unmarshal([]byte(doc), &d); err != nil || d.Kind != "Deployment" {
				continue
			}
			for _, ctr := range d.Spec.Template.Spec.Containers {
				want[ctr.Image] = true
			}
		}
	}
	got, err := DemoImages()
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(want) || len(got) == 0 {
		t.Fatalf("demo images %q, want %v", refs(got), want)
	}
	for _, img := range got {
		if !want[img.Ref] || img.For != ForDemo {
			t.Errorf("demo image %+v not in the manifests' %v", img, want)
		}
	}
}

func TestRepository(t *testing.T) {
	for in, want := range map[string]string{
		"quay.io/cilium/cilium:v1.19.5":    "quay.io/cilium/cilium",
		"mirror.example:5000/cilium/x:v1":  "mirror.example:5000/cilium/x",
		"mirror.example:5000/cilium/x":     "mirror.example:5000/cilium/x",
		"docker.io/library/busybox:1.37.0": "docker.io/library/busybox",
	} {
		if got := repository(in); got != want {
			t.Errorf("repository(%q) = %q, want %q", in, got, want)
		}
	}
}
