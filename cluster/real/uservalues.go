package real

import (
	"fmt"
	"maps"
	"os"
	"strings"

	"helm.sh/helm/v3/pkg/chartutil"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// ReadValuesFile reads a Helm values file (--cilium-values) as `helm -f`
// does: YAML whose top level is a map; an empty file is no values.
func ReadValuesFile(path string) (map[string]any, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the Helm values file: %w", err)
	}
	vals, err := chartutil.ReadValues(data)
	if err != nil {
		return nil, fmt.Errorf("the Helm values file %s is not a YAML map of values: %w", path, err)
	}
	return vals.AsMap(), nil
}

// pinnedValues are the values the shown commands set with their own flags
// (cilium install's three --set, clustermesh enable's --service-type
// NodePort, the peers connect computes): they win over a values file, as
// flags do for cilium-cli, so that each step does what it says. A value
// pinned at a stage stays pinned at the later ones, whose upgrades reuse
// the release's values: a file cannot rename the cluster at enable.
// Every other value of the file wins over the lab's.
var pinnedValues = map[Stage][]string{
	StageInstall: {"cluster.name", "cluster.id", "ipam.mode"},
	StageEnable:  {"clustermesh.useAPIServer", "clustermesh.apiserver.service.type"},
	StageConnect: {"clustermesh.config.enabled", "clustermesh.config.clusters"},
	// The hubble step's Services are NodePorts on the seed's ports, or
	// its commands would not reach them; whether relay and UI run at all
	// stays the learner's to decide (hack/e2e turns both off).
	StageHubble: {"hubble.relay.service.type", "hubble.relay.service.nodePort", "hubble.ui.service.type", "hubble.ui.service.nodePort"},
}

// pinnedAt lists the values pinned at a stage and at every stage before it.
func pinnedAt(stage Stage) []string {
	var out []string
	for _, s := range []Stage{StageInstall, StageEnable, StageConnect, StageHubble} {
		out = append(out, pinnedValues[s]...)
		if s == stage {
			break
		}
	}
	return out
}

// MergeUserValues lays the learner's values over the lab's values of a
// stage, merging maps key by key as `helm -f lab.yaml -f user.yaml` does,
// then restores the pinned values: the stage's own from the lab's values,
// and those of earlier stages by dropping the file's, so that the
// release's (reused by the upgrade) stay. Neither argument is modified.
func MergeUserValues(stage Stage, lab, user map[string]any) map[string]any {
	if len(user) == 0 {
		return lab
	}
	out := mergeMaps(lab, user)
	for _, path := range pinnedAt(stage) {
		if v, ok := lookup(lab, path); ok {
			setPath(out, path, v)
		} else {
			deletePath(out, path)
		}
	}
	return out
}

// mergeMaps returns a merged copy of a and b, b winning, recursing where
// both hold a map (Helm's own rule for several values files).
func mergeMaps(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	maps.Copy(out, a)
	for k, v := range b {
		if bm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeMaps(am, bm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

// setPath sets the dotted path in vals, copying the maps on the way so
// that maps shared with another value are not changed.
func setPath(vals map[string]any, path string, v any) {
	keys := strings.Split(path, ".")
	cur := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
		} else {
			next = maps.Clone(next)
		}
		cur[k] = next
		cur = next
	}
	cur[keys[len(keys)-1]] = v
}

// deletePath removes the dotted path from vals, copying the maps on the
// way as setPath does; a path that is not there is left alone.
func deletePath(vals map[string]any, path string) {
	keys := strings.Split(path, ".")
	cur := vals
	for _, k := range keys[:len(keys)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return
		}
		next = maps.Clone(next)
		cur[k] = next
		cur = next
	}
	delete(cur, keys[len(keys)-1])
}

// withUserValues is MergeUserValues with the backend's --cilium-values,
// saying so in the step's log.
func (b *Backend) withUserValues(stage Stage, lab map[string]any, log cluster.Logger) map[string]any {
	if len(b.opts.Values) == 0 {
		return lab
	}
	log.Logf("Laying the Helm values of %s over the lab's %s values", b.opts.ValuesFile, stage)
	return MergeUserValues(stage, lab, b.opts.Values)
}
