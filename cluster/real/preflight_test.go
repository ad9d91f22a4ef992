package real

import (
	"context"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// TestPreflightSaysWhatIsNeverPulled: a values file that sets pullPolicy
// Never (hack/e2e's) is named in the images check, with the paths it
// covers and what it asks of the learner; without one, nothing is added.
func TestPreflightSaysWhatIsNeverPulled(t *testing.T) {
	pre := func(context.Context) []cluster.Check {
		return []cluster.Check{{ID: "image-pulls", Name: "Image pulls", Status: cluster.Warn, Detail: "kind will pull the node image from Docker Hub"}}
	}
	vals := map[string]any{
		"image":       map[string]any{"pullPolicy": "Never", "useDigest": false},
		"operator":    map[string]any{"image": map[string]any{"pullPolicy": "IfNotPresent"}},
		"clustermesh": map[string]any{"apiserver": map[string]any{"image": map[string]any{"pullPolicy": "Never"}}},
	}
	tb := newTestBackend(t, "", nil, nil, func(o *Options) {
		o.Preflight, o.Values, o.ValuesFile = pre, vals, "e2e-values.yaml"
	})
	d := tb.Preflight(context.Background())[0].Detail
	for _, want := range []string{"e2e-values.yaml sets pullPolicy Never for clustermesh.apiserver.image, image:", "--preload", "ErrImageNeverPull"} {
		if !strings.Contains(d, want) {
			t.Errorf("detail lacks %q: %s", want, d)
		}
	}
	if strings.Contains(d, "operator") {
		t.Errorf("IfNotPresent named as Never: %s", d)
	}
	plain := newTestBackend(t, "", nil, nil, func(o *Options) { o.Preflight = pre })
	if d := plain.Preflight(context.Background())[0].Detail; d != "kind will pull the node image from Docker Hub" {
		t.Errorf("without values: %s", d)
	}
}
