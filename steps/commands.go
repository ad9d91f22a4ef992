package steps

import (
	"fmt"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
)

// Setup is what the lab runs with, as the shown commands name it.
type Setup struct {
	// NodeImage is the kind node image; "" means cluster.DefaultNodeImage.
	NodeImage string
	// CiliumVersion is the Cilium chart version; "" means cluster.DefaultCiliumVersion.
	CiliumVersion string
	// ValuesFile is the learner's extra Helm values file (an absolute
	// path), or "" for none.
	ValuesFile string
	// Preload is set when the nodes get their images from the host's
	// engine (--preload, --bundle) instead of pulling them.
	Preload bool
}

// CommandVars are what the shown commands depend on, so that each one
// works as typed, in order, in the seed's terminals.
type CommandVars struct {
	// LabDir is the lab directory, which holds every file the commands
	// name; the first block of each terminal changes into it ("" leaves
	// the cd out).
	LabDir string
	// Requests is the number of requests a probe sends (`seq 1 N`).
	Requests int
	Setup
}

// withDefaults fills what was left empty with the lab's defaults.
func (v CommandVars) withDefaults() CommandVars {
	if v.NodeImage == "" {
		v.NodeImage = cluster.DefaultNodeImage
	}
	if v.CiliumVersion == "" {
		v.CiliumVersion = cluster.DefaultCiliumVersion
	}
	if v.Requests <= 0 {
		v.Requests = 10
	}
	return v
}

// CommandVars are the values the shown commands take from this Env.
func (e *Env) CommandVars() CommandVars {
	return CommandVars{LabDir: e.LabDir, Requests: e.Requests, Setup: e.Setup}.withDefaults()
}

// cd changes a new terminal into the lab directory, where the seed's files are.
func (v CommandVars) cd() []string {
	if v.LabDir == "" {
		return nil
	}
	return []string{"cd " + shellQuote(v.LabDir)}
}

// probe is the seed's probe loop, with the request count in use.
func (v CommandVars) probe() string {
	return fmt.Sprintf(`kubectl exec -it deploy/busybox-deployment -- /bin/sh -c 'for i in $(seq 1 %d); do wget -qO- hello-world:80; echo ""; done'`, v.Requests)
}

// kubeconfigOf is the export of a cluster terminal, as in the seed.
func kubeconfigOf(c cluster.Name) string {
	return "export KUBECONFIG=./" + labfiles.KubeconfigFile(c)
}

// bothKubeconfigs names both clusters' kubeconfigs, for Terminal 3.
var bothKubeconfigs = "KUBECONFIG=./" + labfiles.KubeconfigFile(cluster.US) + ":./" + labfiles.KubeconfigFile(cluster.EU)

// terminal is the seed's terminal of a cluster.
func terminal(c cluster.Name) string {
	if c == cluster.EU {
		return TermEU
	}
	return TermUS
}

// shellQuote single-quotes s when a shell would split or expand it.
func shellQuote(s string) string {
	if s != "" && !strings.ContainsAny(s, " \t\n*?[]{},$'\"\\|&;<>()~#!`") {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
