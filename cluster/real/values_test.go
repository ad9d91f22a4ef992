package real

import (
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func TestMergeClustersFormats(t *testing.T) {
	peer := PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32379}
	existing := []any{
		map[string]any{"name": "asia", "ips": []any{"10.0.0.9"}, "port": 2379},
		map[string]any{"name": "eu", "ips": []any{"10.0.0.1"}, "port": 1},
	}
	// Below 1.20: a list, merged by name, the peer replaced in place of a duplicate.
	got, err := MergeClusters("1.19.5", existing, peer)
	if err != nil {
		t.Fatal(err)
	}
	want := []any{
		map[string]any{"name": "asia", "ips": []any{"10.0.0.9"}, "port": 2379},
		map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": 32379},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("list: %#v", got)
	}
	// From 1.20: a map keyed by name, converted from the list.
	got, err = MergeClusters("1.20.0", existing, peer)
	if err != nil {
		t.Fatal(err)
	}
	wantMap := map[string]any{
		"asia": map[string]any{"ips": []any{"10.0.0.9"}, "port": 2379},
		"eu":   map[string]any{"ips": []any{"172.18.0.5"}, "port": 32379},
	}
	if !reflect.DeepEqual(got, wantMap) {
		t.Errorf("map: %#v", got)
	}
	// And a map back to a list for an older chart.
	if got, err = MergeClusters("1.18.11", wantMap, peer); err != nil || len(got.([]any)) != 2 {
		t.Errorf("map to list: %#v %v", got, err)
	}
	if _, err := MergeClusters("1.19.5", []any{map[string]any{"ips": []any{}}}, peer); err == nil {
		t.Error("an entry without a name was accepted")
	}
	if _, err := MergeClusters("latest", nil, peer); err == nil {
		t.Error("version latest accepted")
	}
}

func TestPeerConfigured(t *testing.T) {
	peer := PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32379}
	// Values come back from Helm's storage as JSON: numbers are float64.
	stored := []any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(32379)}}
	if !peerConfigured(stored, peer) {
		t.Error("identical entry not recognised")
	}
	for _, other := range []any{
		nil,
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.6"}, "port": float64(32379)}},
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(30000)}},
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(32379), "tls": map[string]any{"cert": "x"}}},
		map[string]any{"eu": map[string]any{"ips": []any{"172.18.0.5"}, "port": 32379, "enabled": false}},
	} {
		if peerConfigured(other, peer) {
			t.Errorf("%#v counted as configured", other)
		}
	}
}

func TestStageValues(t *testing.T) {
	in, err := StageValues(StageInstall, cluster.EU, DefaultCiliumVersion, PeerEntry{})
	if err != nil {
		t.Fatal(err)
	}
	args := strings.Join(SetArgs(in), " ")
	for _, want := range []string{"--set cluster.name=eu", "--set cluster.id=2", "--set ipam.mode=kubernetes", "--set operator.replicas=1", "--set routingMode=tunnel", "--set tunnelProtocol=vxlan"} {
		if !strings.Contains(args, want) {
			t.Errorf("install args %q lack %q", args, want)
		}
	}
	en, _ := StageValues(StageEnable, cluster.EU, DefaultCiliumVersion, PeerEntry{})
	if !meshEnabledIn(en) || meshEnabledIn(InstallValues(cluster.EU)) {
		t.Errorf("enable values %v", en)
	}
	if _, set := lookup(en, "clustermesh.apiserver.service.nodePort"); set {
		t.Errorf("enable values set a nodePort, which cilium clustermesh enable does not: %v", en)
	}
	if args := strings.Join(SetArgs(en), " "); !strings.Contains(args, "--set 'clustermesh.apiserver.tls.auto.schedule=0 0 1 */4 *'") {
		t.Errorf("schedule not quoted: %s", args)
	}
	if _, err := StageValues(StageConnect, cluster.EU, DefaultCiliumVersion, PeerEntry{}); err == nil {
		t.Error("connect without a peer accepted")
	}
	co, err := StageValues(StageConnect, cluster.EU, DefaultCiliumVersion, PeerEntry{IPs: []string{"172.18.0.2"}, Port: 32379})
	if err != nil {
		t.Fatal(err)
	}
	if args := strings.Join(SetArgs(co), " "); !strings.Contains(args, "'clustermesh.config.clusters[0].name=us'") || !strings.Contains(args, "clustermesh.config.enabled=true") {
		t.Errorf("connect args %s", args)
	}
	if got := HelmCommand(StageEnable, "1.19.5", "v.yaml"); got != "helm upgrade --install cilium cilium/cilium --version 1.19.5 --namespace kube-system --reuse-values -f v.yaml" {
		t.Errorf("helm command %q", got)
	}
	if _, err := ParseStage("deploy"); err == nil {
		t.Error("unknown stage accepted")
	}
}

func TestImageVersion(t *testing.T) {
	for image, want := range map[string]string{
		"quay.io/cilium/cilium:v1.19.5@sha256:abc": "1.19.5",
		"localhost:5000/cilium/cilium:v1.18.11":    "1.18.11",
		"localhost:5000/cilium/cilium":             "",
	} {
		if got := imageVersion(image); got != want {
			t.Errorf("imageVersion(%q) = %q, want %q", image, got, want)
		}
	}
}

// TestMergeUserValues checks how a --cilium-values file is laid over the
// lab's values: key by key, the file winning, except the values the shown
// command sets with its own flags.
func TestMergeUserValues(t *testing.T) {
	user := map[string]any{
		"image":       map[string]any{"repository": "registry.local/cilium/cilium", "useDigest": false},
		"operator":    map[string]any{"replicas": 2, "image": map[string]any{"useDigest": false}},
		"cluster":     map[string]any{"name": "mars", "id": 9},
		"ipam":        map[string]any{"mode": "cluster-pool"},
		"envoy":       map[string]any{"enabled": false},
		"clustermesh": map[string]any{"apiserver": map[string]any{"service": map[string]any{"type": "LoadBalancer", "nodePort": 30000}}, "config": map[string]any{"clusters": []any{}}},
	}
	lab := InstallValues(cluster.US)
	got := MergeUserValues(StageInstall, lab, user)
	for path, want := range map[string]any{
		"image.repository":                   "registry.local/cilium/cilium",
		"operator.replicas":                  2,
		"operator.image.useDigest":           false,
		"envoy.enabled":                      false,
		"routingMode":                        "tunnel",
		"cluster.name":                       "us",
		"cluster.id":                         1,
		"ipam.mode":                          "kubernetes",
		"clustermesh.apiserver.service.type": "LoadBalancer",
	} {
		if v, _ := lookup(got, path); fmt.Sprint(v) != fmt.Sprint(want) {
			t.Errorf("install: %s = %v, want %v", path, v, want)
		}
	}
	if name, _ := lookup(lab, "operator.replicas"); name != 1 {
		t.Errorf("the lab's values were changed: %v", lab)
	}
	if v, _ := lookup(user, "cluster.name"); v != "mars" {
		t.Errorf("the user's values were changed: %v", user)
	}
	en := MergeUserValues(StageEnable, EnableValues(), user)
	if v, _ := lookup(en, "clustermesh.apiserver.service.type"); v != "NodePort" {
		t.Errorf("enable: service type %v, want the step's NodePort", v)
	}
	// The upgrade reuses the release's name, id and IPAM: the file's stay out.
	for _, path := range []string{"cluster.name", "cluster.id", "ipam.mode"} {
		if v, set := lookup(en, path); set {
			t.Errorf("enable: %s = %v from the file would replace the release's", path, v)
		}
	}
	if v, _ := lookup(en, "image.repository"); v != "registry.local/cilium/cilium" {
		t.Errorf("enable: the file's image.repository is missing: %v", v)
	}
	if v, _ := lookup(en, "clustermesh.apiserver.service.nodePort"); v != 30000 {
		t.Errorf("enable: the file's nodePort was dropped: %v", v)
	}
	co, err := ConnectValues("1.19.5", nil, PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32379})
	if err != nil {
		t.Fatal(err)
	}
	if v, _ := lookup(MergeUserValues(StageConnect, co, user), "clustermesh.config.clusters"); fmt.Sprint(v) != "[map[ips:[172.18.0.5] name:eu port:32379]]" {
		t.Errorf("connect: clusters %v, want the peer", v)
	}
	if got := MergeUserValues(StageInstall, lab, nil); !reflect.DeepEqual(got, lab) {
		t.Errorf("no file changed the values: %v", got)
	}
}

func TestReadValuesFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	if v, err := ReadValuesFile(write("ok.yaml", "image:\n  useDigest: false\n")); err != nil || fmt.Sprint(v) != "map[image:map[useDigest:false]]" {
		t.Errorf("ok: %v %v", v, err)
	}
	if v, err := ReadValuesFile(write("empty.yaml", "")); err != nil || len(v) != 0 {
		t.Errorf("empty: %v %v", v, err)
	}
	for name, content := range map[string]string{"list.yaml": "- a\n- b\n", "broken.yaml": "image: [\n", "scalar.yaml": "just text\n"} {
		if _, err := ReadValuesFile(write(name, content)); err == nil || !strings.Contains(err.Error(), "not a YAML map") {
			t.Errorf("%s accepted: %v", name, err)
		}
	}
	if _, err := ReadValuesFile(filepath.Join(dir, "missing.yaml")); err == nil || !strings.Contains(err.Error(), "read the Helm values file") {
		t.Errorf("missing: %v", err)
	}
}
