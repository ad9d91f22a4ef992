package real

import (
	"reflect"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

func TestMergeClustersFormats(t *testing.T) {
	peer := PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32380}
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
		map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": 32380},
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
		"eu":   map[string]any{"ips": []any{"172.18.0.5"}, "port": 32380},
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
	peer := PeerEntry{Name: "eu", IPs: []string{"172.18.0.5"}, Port: 32380}
	// Values come back from Helm's storage as JSON: numbers are float64.
	stored := []any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(32380)}}
	if !peerConfigured(stored, peer) {
		t.Error("identical entry not recognised")
	}
	for _, other := range []any{
		nil,
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.6"}, "port": float64(32380)}},
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(32379)}},
		[]any{map[string]any{"name": "eu", "ips": []any{"172.18.0.5"}, "port": float64(32380), "tls": map[string]any{"cert": "x"}}},
		map[string]any{"eu": map[string]any{"ips": []any{"172.18.0.5"}, "port": 32380, "enabled": false}},
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
	if !meshEnabledIn(en, cluster.EU) || meshEnabledIn(en, cluster.US) {
		t.Errorf("enable values %v", en)
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
