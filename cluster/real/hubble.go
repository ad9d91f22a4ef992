package real

import (
	"context"
	"fmt"

	"helm.sh/helm/v3/pkg/release"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Hubble's objects, as the chart names them (shared/CILIUM.md, "Hubble").
const (
	hubbleRelay = "hubble-relay"
	hubbleUI    = "hubble-ui"
)

// HubbleValues are what `cilium hubble enable --ui` sets (relay and UI
// on), with both Services of type NodePort on the chart's NodePorts, the
// ports the seed's US kind config maps to the host. EU gets the same
// values: one command in both terminals, as for the other steps, and its
// relay serves the mesh too; its NodePorts are not mapped to the host by
// the seed's EU config, so from the host it is reached on the EU control
// plane's address on the kind network, or with `cilium hubble port-forward`.
func HubbleValues() map[string]any {
	svc := func(port int) map[string]any { return map[string]any{"type": "NodePort", "nodePort": port} }
	return map[string]any{
		"hubble": map[string]any{
			"enabled": true,
			"relay":   map[string]any{"enabled": true, "service": svc(cluster.HubbleRelayNodePort)},
			"ui":      map[string]any{"enabled": true, "service": svc(cluster.HubbleUINodePort)},
		},
	}
}

// hubbleAppliedIn reports whether the release's values hold the hubble
// stage's pinned values, whatever the learner's values turned off.
func hubbleAppliedIn(vals map[string]any) bool {
	for _, path := range pinnedValues[StageHubble] {
		v, ok := lookup(vals, path)
		want, _ := lookup(HubbleValues(), path)
		if !ok || fmt.Sprint(v) != fmt.Sprint(want) {
			return false
		}
	}
	return true
}

// hubbleWanted reads which of relay and UI the release's values enable:
// the chart renders them only with hubble.enabled (default true) and
// their own enabled (default false).
func hubbleWanted(vals map[string]any) (relay, ui bool) {
	on := func(path string, def bool) bool {
		v, ok := lookup(vals, path)
		if !ok {
			return def
		}
		b, isBool := v.(bool)
		return isBool && b
	}
	hub := on("hubble.enabled", true)
	return hub && on("hubble.relay.enabled", false), hub && on("hubble.ui.enabled", false)
}

// EnableHubble upgrades the release with the Hubble values (as `cilium
// hubble enable --ui`, with the seed's NodePorts), then waits for the
// relay and UI Deployments the release's values enable, saying which the
// learner's values keep off.
func (b *Backend) EnableHubble(ctx context.Context, c cluster.Name, log cluster.Logger) error {
	kc, err := b.kube(ctx, c)
	if err != nil {
		return err
	}
	vals, err := b.hubbleValues(ctx, c, log)
	if err != nil {
		return err
	}
	relay, ui := hubbleWanted(vals)
	var ready []string
	for _, d := range []struct {
		name   string
		wanted bool
		key    string
		port   int
	}{{hubbleRelay, relay, "hubble.relay.enabled", cluster.HubbleRelayNodePort}, {hubbleUI, ui, "hubble.ui.enabled", cluster.HubbleUINodePort}} {
		if !d.wanted {
			log.Logf("%s stays off in %s: the release's values (%s) set %s=false; the lab does not wait for it", d.name, c, b.valuesSource(), d.key)
			continue
		}
		hint := fmt.Sprintf("look at the pods: kubectl --kubeconfig %s -n kube-system get pods -l k8s-app=%s; then retry", b.kubeconfigHintPath(c), d.name)
		if err := b.waitFor(ctx, log, "deployment "+d.name+" in "+string(c), b.timeouts.Rollout, hint,
			func(ctx context.Context) (bool, string, error) {
				dep, err := kc.AppsV1().Deployments(namespace).Get(ctx, d.name, metav1.GetOptions{})
				if err != nil {
					return false, "", err
				}
				ok, state := rolledOut(dep)
				return ok, state, nil
			}); err != nil {
			return err
		}
		ready = append(ready, fmt.Sprintf("%s on NodePort %d", d.name, d.port))
	}
	if len(ready) == 0 {
		log.Logf("Hubble Relay and UI are both off in %s, as the release's values say", c)
		return nil
	}
	log.Logf("✅ Hubble is ready in %s: %s", c, joinAnd(ready))
	return nil
}

// valuesSource names where the release's values come from, for a log line.
func (b *Backend) valuesSource() string {
	if b.opts.ValuesFile != "" {
		return b.opts.ValuesFile
	}
	return "helm get values cilium"
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	}
	out := parts[0]
	for _, p := range parts[1 : len(parts)-1] {
		out += ", " + p
	}
	return out + " and " + parts[len(parts)-1]
}

// hubbleValues applies the Hubble values unless the release has them,
// and returns the release's values after.
func (b *Backend) hubbleValues(ctx context.Context, c cluster.Name, log cluster.Logger) (map[string]any, error) {
	unlock, err := b.lockHelm(ctx, c)
	if err != nil {
		return nil, err
	}
	defer unlock()
	vals, rel, err := b.releaseValues(c)
	if err != nil {
		return nil, fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	if rel == nil {
		return nil, fmt.Errorf("%w in %s (no Helm release cilium)", cluster.ErrNoCilium, c)
	}
	if hubbleAppliedIn(vals) && rel.Info.Status == release.StatusDeployed {
		log.Logf("Hubble's values are already in the release cilium in %s (relay and UI Services of type NodePort)", c)
		return vals, nil
	}
	lc, err := b.loadChart(ctx, log)
	if err != nil {
		return nil, err
	}
	log.Logf("Upgrading Helm release cilium in %s: hubble.relay.enabled=true, hubble.ui.enabled=true, Services of type NodePort (%d, %d)", c, cluster.HubbleRelayNodePort, cluster.HubbleUINodePort)
	if err := b.upgrade(ctx, c, lc, b.withUserValues(StageHubble, HubbleValues(), log)); err != nil {
		return nil, err
	}
	vals, _, err = b.releaseValues(c)
	if err != nil {
		return nil, fmt.Errorf("read the Helm release cilium in %s: %w", c, err)
	}
	return vals, nil
}

// hubbleStatus fills Hubble's state from the relay and UI Deployments and
// Services, and what the release's values ask for. A release that cannot
// be read leaves the live objects to say what is wanted.
func (b *Backend) hubbleStatus(r *reader, c cluster.Name, h *cluster.Hubble) error {
	for _, w := range []struct {
		name string
		into *cluster.Workload
		port *int
	}{{hubbleRelay, &h.Relay, &h.RelayNodePort}, {hubbleUI, &h.UI, &h.UINodePort}} {
		d, err := r.deployment(namespace, w.name)
		if err != nil {
			return err
		}
		if d != nil {
			*w.into = deploymentWorkload(d)
		}
		svc, err := r.service(namespace, w.name)
		if err != nil {
			return err
		}
		if svc != nil && svc.Spec.Type == "NodePort" && len(svc.Spec.Ports) > 0 {
			*w.port = int(svc.Spec.Ports[0].NodePort)
		}
	}
	vals, rel, err := b.releaseValues(c)
	if err != nil || rel == nil {
		if err != nil {
			b.diag.Logf("[%s] read the Helm release for Hubble's status: %v", c, err)
		}
		h.RelayWanted, h.UIWanted = h.Relay.Present, h.UI.Present
		h.Applied = h.RelayNodePort == cluster.HubbleRelayNodePort || h.UINodePort == cluster.HubbleUINodePort
		return nil
	}
	h.Applied = hubbleAppliedIn(vals)
	h.RelayWanted, h.UIWanted = hubbleWanted(vals)
	return nil
}
