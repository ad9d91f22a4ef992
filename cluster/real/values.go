package real

import (
	"fmt"
	"sort"
	"strconv"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// Stage names a point of the lab at which Helm values are applied.
type Stage string

// The stages at which the lab applies Helm values to the cilium release.
const (
	StageInstall Stage = "install"
	StageEnable  Stage = "enable"
	StageConnect Stage = "connect"
	StageHubble  Stage = "hubble"
)

// ParseStage accepts install, enable, connect or hubble.
func ParseStage(s string) (Stage, error) {
	switch st := Stage(strings.ToLower(s)); st {
	case StageInstall, StageEnable, StageConnect, StageHubble:
		return st, nil
	}
	return "", fmt.Errorf("unknown stage %q: want install, enable, connect or hubble", s)
}

// The Helm release the lab manages, as cilium-cli names it
// (shared/CILIUM.md, "Cilium chart").
const (
	releaseName = "cilium"
	namespace   = "kube-system"
)

// certSchedule renews the clustermesh-apiserver certificates as
// `cilium clustermesh enable` configures it (shared/CILIUM.md, "Enable").
const certSchedule = "0 0 1 */4 *"

// InstallValues are the values of `cilium install --set cluster.name=c
// --set cluster.id=N --set ipam.mode=kubernetes` on kind: the seed's three
// plus what cilium-cli adds for kind (shared/CILIUM.md, "Cilium chart").
// kind keeps kube-proxy, so there is no kube-proxy replacement key.
func InstallValues(c cluster.Name) map[string]any {
	return map[string]any{
		"cluster": map[string]any{
			"name": string(c),
			"id":   c.ID(),
		},
		"ipam":           map[string]any{"mode": "kubernetes"},
		"operator":       map[string]any{"replicas": 1},
		"routingMode":    "tunnel",
		"tunnelProtocol": "vxlan",
	}
}

// EnableValues are what `cilium clustermesh enable --service-type NodePort`
// adds to the release (shared/CILIUM.md, "Enable Cluster Mesh"). It sets no
// nodePort, as cilium-cli does not: the chart's default, 32379, serves in
// both clusters, as in the seed. With kube-proxy kept, Cilium does not
// handle NodePort frontends, so a connection to the peer's node on 32379
// leaves the node and cannot land on the local apiserver.
func EnableValues() map[string]any {
	return map[string]any{
		"clustermesh": map[string]any{
			"useAPIServer": true,
			// The 1.19 chart renders ConfigMap clustermesh-remote-users, which
			// the apiserver pod mounts, only with the mesh config enabled: set
			// it now (with no clusters yet), or the pod waits for connect.
			"config": map[string]any{"enabled": true},
			"apiserver": map[string]any{
				"service": map[string]any{"type": "NodePort"},
				"tls": map[string]any{
					"auto": map[string]any{
						"enabled":  true,
						"method":   "cronJob",
						"schedule": certSchedule,
					},
				},
			},
		},
	}
}

// PeerEntry is one clustermesh.config.clusters entry: where the agents of a
// cluster find a remote cluster's clustermesh-apiserver. With a shared CA it
// needs no tls block: the agents use the local remote-cert.
type PeerEntry struct {
	Name string
	IPs  []string
	Port int
}

// value renders the entry as the chart reads it; inMap leaves the name out,
// since in the map format it is the key.
func (p PeerEntry) value(inMap bool) map[string]any {
	ips := make([]any, len(p.IPs))
	for i, ip := range p.IPs {
		ips[i] = ip
	}
	v := map[string]any{"ips": ips, "port": p.Port}
	if !inMap {
		v["name"] = p.Name
	}
	return v
}

// ConnectValues are what `cilium clustermesh connect` sets in one cluster:
// the mesh configuration enabled and the peer's entry merged, by name, into
// the clusters the release already lists (current is the release's
// clustermesh.config.clusters, nil when unset), in the format of the chart
// version that is installed.
func ConnectValues(chartVersion string, current any, peer PeerEntry) (map[string]any, error) {
	clusters, err := MergeClusters(chartVersion, current, peer)
	if err != nil {
		return nil, err
	}
	return map[string]any{
		"clustermesh": map[string]any{
			"config": map[string]any{
				"enabled":  true,
				"clusters": clusters,
			},
		},
	}, nil
}

// clustersAsMap reports whether the chart takes clustermesh.config.clusters
// as a map keyed by name: charts from 1.20 on do (shared/CILIUM.md,
// "Connect" step 3); 1.19 reads both, 1.18 only the list, so the list is
// kept below 1.20.
func clustersAsMap(chartVersion string) (bool, error) {
	major, minor, err := cluster.ParseMinor(chartVersion)
	if err != nil {
		return false, err
	}
	return major > 1 || (major == 1 && minor >= 20), nil
}

// MergeClusters returns the clusters list (or map) with peer's entry
// replacing the one of the same name, or added; entries for other clusters
// are kept as they are, converted to the chart version's format.
func MergeClusters(chartVersion string, current any, peer PeerEntry) (any, error) {
	asMap, err := clustersAsMap(chartVersion)
	if err != nil {
		return nil, err
	}
	entries, err := clusterEntries(current)
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(entries)+1)
	for name := range entries {
		if name != peer.Name {
			names = append(names, name)
		}
	}
	sort.Strings(names)
	if asMap {
		out := map[string]any{}
		for _, name := range names {
			e := copyMap(entries[name])
			delete(e, "name")
			out[name] = e
		}
		out[peer.Name] = peer.value(true)
		return out, nil
	}
	out := make([]any, 0, len(names)+1)
	for _, name := range names {
		e := copyMap(entries[name])
		e["name"] = name
		out = append(out, e)
	}
	return append(out, peer.value(false)), nil
}

// clusterEntries reads clustermesh.config.clusters in either format into
// entries by name.
func clusterEntries(current any) (map[string]map[string]any, error) {
	out := map[string]map[string]any{}
	switch v := current.(type) {
	case nil:
	case []any:
		for i, e := range v {
			m, ok := e.(map[string]any)
			name, _ := m["name"].(string)
			if !ok || name == "" {
				return nil, fmt.Errorf("clustermesh.config.clusters[%d] has no name", i)
			}
			out[name] = m
		}
	case map[string]any:
		for name, e := range v {
			m, ok := e.(map[string]any)
			if !ok {
				return nil, fmt.Errorf("clustermesh.config.clusters.%s is not a map", name)
			}
			out[name] = m
		}
	default:
		return nil, fmt.Errorf("clustermesh.config.clusters is a %T, want a list or a map", current)
	}
	return out, nil
}

// lookup returns the value at the dotted path in Helm values.
func lookup(vals map[string]any, path string) (any, bool) {
	var cur any = vals
	for _, k := range strings.Split(path, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return nil, false
		}
		if cur, ok = m[k]; !ok {
			return nil, false
		}
	}
	return cur, true
}

// peerConfigured reports whether the clusters value already holds exactly
// this entry, so that connecting again needs no upgrade.
func peerConfigured(current any, peer PeerEntry) bool {
	entries, err := clusterEntries(current)
	if err != nil {
		return false
	}
	e, ok := entries[peer.Name]
	if !ok || fmt.Sprint(e["port"]) != strconv.Itoa(peer.Port) {
		return false
	}
	ips, _ := e["ips"].([]any)
	if len(ips) != len(peer.IPs) {
		return false
	}
	for i := range ips {
		if fmt.Sprint(ips[i]) != peer.IPs[i] {
			return false
		}
	}
	_, hasTLS := e["tls"]
	enabled, set := e["enabled"].(bool)
	return !hasTLS && (!set || enabled)
}

func copyMap(m map[string]any) map[string]any {
	out := make(map[string]any, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// StageValues are the values the lab applies to cluster c at a stage, for
// `clustermesh-lab helm-values`; the connect stage needs the peer's entry.
func StageValues(stage Stage, c cluster.Name, chartVersion string, peer PeerEntry) (map[string]any, error) {
	switch stage {
	case StageInstall:
		return InstallValues(c), nil
	case StageEnable:
		return EnableValues(), nil
	case StageConnect:
		if peer.Name == "" {
			peer.Name = string(c.Peer())
		}
		if len(peer.IPs) == 0 || peer.Port == 0 {
			return nil, fmt.Errorf("the connect stage needs the peer's node IP and NodePort")
		}
		return ConnectValues(chartVersion, nil, peer)
	case StageHubble:
		return HubbleValues(), nil
	}
	return nil, fmt.Errorf("unknown stage %q", stage)
}

// SetArgs flattens values into `--set key=value` arguments, sorted, as
// `cilium install --set ...` or `helm --set ...` take them; lists render
// as {a,b} and lists of maps by index (key[0].name=...).
func SetArgs(vals map[string]any) []string {
	var out []string
	var walk func(prefix string, v any)
	walk = func(prefix string, v any) {
		switch t := v.(type) {
		case map[string]any:
			for k, x := range t {
				p := k
				if prefix != "" {
					p = prefix + "." + k
				}
				walk(p, x)
			}
		case []any:
			scalar := true
			for _, x := range t {
				if _, ok := x.(map[string]any); ok {
					scalar = false
				}
			}
			if scalar {
				parts := make([]string, len(t))
				for i, x := range t {
					parts[i] = fmt.Sprint(x)
				}
				out = append(out, "--set "+shellQuote(fmt.Sprintf("%s={%s}", prefix, strings.Join(parts, ","))))
				return
			}
			for i, x := range t {
				walk(fmt.Sprintf("%s[%d]", prefix, i), x)
			}
		default:
			out = append(out, "--set "+shellQuote(fmt.Sprintf("%s=%v", prefix, t)))
		}
	}
	walk("", vals)
	sort.Strings(out)
	return out
}

// shellQuote single-quotes s when a shell would split or expand it.
func shellQuote(s string) string {
	if !strings.ContainsAny(s, " \t*?[]{},$'\"\\|&;<>()~#!") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// HelmCommand is the helm command that applies a stage's values file, for
// a learner who wants to do by hand what the lab does: the install stage
// installs, the later ones upgrade keeping the values already there.
func HelmCommand(stage Stage, chartVersion, valuesFile string) string {
	reuse := ""
	if stage != StageInstall {
		reuse = " --reuse-values"
	}
	return fmt.Sprintf("helm upgrade --install %s cilium/%s --version %s --namespace %s%s -f %s", releaseName, chartName, chartVersion, namespace, reuse, valuesFile)
}
