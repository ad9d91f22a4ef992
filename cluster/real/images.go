package real

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"

	"helm.sh/helm/v3/pkg/action"
	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/releaseutil"
	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/assets"
	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Where an image is needed, in Image.For.
const (
	ForNode   = "node"   // the kind node image, which kind creates the nodes from
	ForCilium = "cilium" // rendered by the Cilium chart at one of the lab's stages
	ForDemo   = "demo"   // the demo application's manifests
)

// Image is one image the real lab needs.
type Image struct {
	// Ref is the reference as the manifests (or kind) name it, with the
	// digest when they pin one: quay.io/cilium/cilium:v1.19.5@sha256:...
	Ref string `json:"ref"`
	// Name is Ref without the digest: the name a preloaded image is found
	// by, once the chart asks without digests (useDigest=false).
	Name string `json:"name"`
	// Digest is the pinned digest, "" when the reference has none.
	Digest string `json:"digest,omitempty"`
	// For says what needs it: ForNode, ForCilium or ForDemo.
	For string `json:"for"`
}

// ParseImage splits a reference into its name and digest.
func ParseImage(ref, forWhat string) Image {
	name, digest, _ := strings.Cut(ref, "@")
	return Image{Ref: ref, Name: name, Digest: digest, For: forWhat}
}

// placeholderPeer stands in for the peer at the connect stage, whose node
// IP only the live cluster knows; the images do not depend on it.
func placeholderPeer(c cluster.Name) PeerEntry {
	return PeerEntry{Name: string(c.Peer()), IPs: []string{"172.18.0.2"}, Port: cluster.DefaultMeshNodePort}
}

// releaseStages are the values the cilium release of c holds after each of
// the lab's stages, in order: each upgrade reuses the earlier values, so
// they accumulate. A new stage of the lab (one more Helm upgrade) belongs
// here too, or its images are missed by `images list` and the preload.
func releaseStages(c cluster.Name, chartVersion string, user map[string]any) ([]map[string]any, error) {
	connect, err := ConnectValues(chartVersion, nil, placeholderPeer(c))
	if err != nil {
		return nil, err
	}
	var out []map[string]any
	acc := map[string]any{}
	for _, s := range []struct {
		stage Stage
		vals  map[string]any
	}{
		{StageInstall, InstallValues(c)},
		{StageEnable, EnableValues()},
		{StageConnect, connect},
		{StageHubble, HubbleValues()},
	} {
		acc = mergeMaps(acc, MergeUserValues(s.stage, s.vals, user))
		out = append(out, acc)
	}
	return out, nil
}

// NoDigestValues turn off every digest the chart pins (each values map with
// a useDigest key, found in the chart's own defaults, so a new image in a
// later chart is covered too): a preloaded image is known to the nodes by
// its name, and containerd cannot match an image loaded from the host's
// engine to the registry's digest (shared/CILIUM.md, "Cilium chart").
func NoDigestValues(ch *chart.Chart) map[string]any {
	out := map[string]any{}
	var walk func(path []string, m map[string]any)
	walk = func(path []string, m map[string]any) {
		for k, v := range m {
			if k == "useDigest" {
				setPath(out, strings.Join(append(slices.Clone(path), k), "."), false)
				continue
			}
			if sub, ok := v.(map[string]any); ok {
				walk(append(path, k), sub)
			}
		}
	}
	walk(nil, ch.Values)
	return out
}

// ChartImages renders the chart as the lab installs and upgrades it in both
// clusters, at every stage, with the learner's values laid over the lab's,
// and returns every image the rendered manifests name, sorted. With
// noDigest the chart renders as a preloading lab installs it
// (NoDigestValues). kubeVersion is the Kubernetes version of the nodes
// (vX.Y.Z), which some templates test.
func ChartImages(ch *chart.Chart, user map[string]any, noDigest bool, kubeVersion string) ([]Image, error) {
	if noDigest {
		user = mergeMaps(user, NoDigestValues(ch))
	}
	kv, err := chartutil.ParseKubeVersion(cmp.Or(kubeVersion, "v1.35.8"))
	if err != nil {
		return nil, fmt.Errorf("kubernetes version %q: %w", kubeVersion, err)
	}
	seen := map[string]bool{}
	for _, c := range cluster.Names() {
		stages, err := releaseStages(c, ch.Metadata.Version, user)
		if err != nil {
			return nil, err
		}
		for i, vals := range stages {
			install := action.NewInstall(&action.Configuration{})
			install.DryRun, install.ClientOnly = true, true
			install.ReleaseName, install.Namespace = releaseName, namespace
			install.KubeVersion = kv
			cp := *ch
			rel, err := install.Run(&cp, vals)
			if err != nil {
				return nil, fmt.Errorf("render the cilium chart %s for %s at stage %d: %w", ch.Metadata.Version, c, i+1, err)
			}
			for _, doc := range releaseutil.SplitManifests(rel.Manifest) {
				refs, err := manifestImages([]byte(doc))
				if err != nil {
					return nil, err
				}
				for _, r := range refs {
					seen[r] = true
				}
			}
		}
	}
	out := make([]Image, 0, len(seen))
	for _, r := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, ParseImage(r, ForCilium))
	}
	return out, nil
}

// manifestImages lists the images of every container, init container and
// ephemeral container in one YAML document, wherever its pod template sits
// (Deployment, DaemonSet, Job, CronJob, Pod).
func manifestImages(doc []byte) ([]string, error) {
	var obj any
	if err := yaml.Unmarshal(doc, &obj); err != nil {
		return nil, fmt.Errorf("read a rendered manifest: %w", err)
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				if list, ok := x.([]any); ok && (k == "containers" || k == "initContainers" || k == "ephemeralContainers") {
					for _, c := range list {
						if m, ok := c.(map[string]any); ok {
							if img, ok := m["image"].(string); ok && img != "" {
								out = append(out, img)
							}
						}
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range t {
				walk(x)
			}
		}
	}
	walk(obj)
	return out, nil
}

// DemoImages are the images of the demo application in both clusters.
func DemoImages() ([]Image, error) {
	seen := map[string]bool{}
	for _, c := range cluster.Names() {
		raw, err := assets.DemoManifests(string(c))
		if err != nil {
			return nil, err
		}
		for _, doc := range releaseutil.SplitManifests(string(raw)) {
			refs, err := manifestImages([]byte(doc))
			if err != nil {
				return nil, err
			}
			for _, r := range refs {
				seen[r] = true
			}
		}
	}
	var out []Image
	for _, r := range slices.Sorted(maps.Keys(seen)) {
		out = append(out, ParseImage(r, ForDemo))
	}
	return out, nil
}

// LabImages are every image the real lab needs: the node image, the
// chart's at every stage, the demo's. The node image comes first: kind
// needs it in the host's engine, while the others go into the nodes.
func LabImages(ch *chart.Chart, nodeImage string, user map[string]any, noDigest bool) ([]Image, error) {
	if nodeImage == "" {
		nodeImage = cluster.DefaultNodeImage
	}
	k8s, _ := cluster.KubernetesVersion(nodeImage)
	chartImgs, err := ChartImages(ch, user, noDigest, k8s)
	if err != nil {
		return nil, err
	}
	demo, err := DemoImages()
	if err != nil {
		return nil, err
	}
	out := []Image{ParseImage(nodeImage, ForNode)}
	out = append(out, chartImgs...)
	return append(out, demo...), nil
}
