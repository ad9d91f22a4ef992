package cluster

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// DefaultNodeImage is the kind node image the lab's clusters run, pinned by
// digest: Kubernetes v1.35.8, published for kind v0.33.0. kind v0.33.0's own
// default (v1.37.0) is newer than any Kubernetes Cilium 1.19 or 1.20 is
// tested with (shared/CILIUM.md, "Versions"); the create step shows it as
// `kind create cluster --image`, and --node-image overrides it.
const DefaultNodeImage = "kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0"

// DefaultMeshNodePort is the clustermesh-apiserver's NodePort in both
// clusters: the chart's default (clustermesh.apiserver.service.nodePort),
// which `cilium clustermesh enable --service-type NodePort` leaves as it is.
const DefaultMeshNodePort = 32379

// imageTag matches the Kubernetes version in a kindest/node tag: v1.35.8.
var imageTag = regexp.MustCompile(`^v\d+\.\d+\.\d+([-+][0-9A-Za-z.+-]*)?$`)

// KubernetesVersion reads the Kubernetes version a node image runs from its
// tag (kindest/node images are tagged with it); ok is false for an image
// given by digest only or tagged otherwise, whose version the lab cannot know.
func KubernetesVersion(image string) (version string, ok bool) {
	ref, _, _ := strings.Cut(image, "@")
	slash := strings.LastIndex(ref, "/")
	colon := strings.LastIndex(ref, ":")
	if colon <= slash {
		return "", false
	}
	tag := ref[colon+1:]
	if !imageTag.MatchString(tag) {
		return "", false
	}
	return tag, true
}

// ParseMinor reads the major and minor numbers of a version such as
// "1.19.5", "v1.35.8" or "v1.20.0-pre.1".
func ParseMinor(v string) (major, minor int, err error) {
	parts := strings.SplitN(strings.TrimPrefix(v, "v"), ".", 3)
	if len(parts) < 2 {
		return 0, 0, fmt.Errorf("version %q is not MAJOR.MINOR[.PATCH]", v)
	}
	if major, err = strconv.Atoi(parts[0]); err != nil {
		return 0, 0, fmt.Errorf("version %q: %w", v, err)
	}
	if minor, err = strconv.Atoi(strings.SplitN(parts[1], "-", 2)[0]); err != nil {
		return 0, 0, fmt.Errorf("version %q: %w", v, err)
	}
	return major, minor, nil
}

// KubeRange is a range of Kubernetes 1.x minor versions, both ends included.
type KubeRange struct{ Min, Max int }

// String renders the range as the compatibility pages do: "1.32-1.35".
func (r KubeRange) String() string { return fmt.Sprintf("1.%d-1.%d", r.Min, r.Max) }

// Contains reports whether Kubernetes version v (such as "v1.35.8") is in the range.
func (r KubeRange) Contains(v string) bool {
	major, minor, err := ParseMinor(v)
	return err == nil && major == 1 && minor >= r.Min && minor <= r.Max
}

// testedKubernetes holds, per Cilium minor, the Kubernetes versions it is
// tested with (Documentation/network/kubernetes/compatibility.rst of each
// release, shared/CILIUM.md "Versions"). Releases the lab does not know are
// absent, rather than guessed.
var testedKubernetes = map[string]KubeRange{
	"1.19": {Min: 32, Max: 35},
	"1.20": {Min: 33, Max: 36},
}

// TestedKubernetes returns the Kubernetes versions a Cilium version is
// tested with; ok is false for a release the lab has no range for.
func TestedKubernetes(ciliumVersion string) (r KubeRange, ok bool) {
	major, minor, err := ParseMinor(ciliumVersion)
	if err != nil {
		return KubeRange{}, false
	}
	r, ok = testedKubernetes[fmt.Sprintf("%d.%d", major, minor)]
	return r, ok
}
