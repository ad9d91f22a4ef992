package stepstest_test

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"k8s.io/cli-runtime/pkg/genericiooptions"
	kubectlcmd "k8s.io/kubectl/pkg/cmd"
	"mvdan.cc/sh/v3/syntax"
	kindcmd "sigs.k8s.io/kind/pkg/cmd"
	kindroot "sigs.k8s.io/kind/pkg/cmd/kind"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/stepstest"
)

// The shown commands are checked here rather than in package steps: the
// kubectl and kind command trees make a test binary about 100 MB, which
// the steps package's own quick tests need not link.

// kubectlTree is kubectl's own command tree (k8s.io/kubectl/pkg/cmd), as
// the kubectl binary builds it, writing nowhere. A fresh tree per line,
// since parsing flags leaves state in it.
func kubectlTree() *cobra.Command {
	return kubectlcmd.NewKubectlCommand(kubectlcmd.KubectlOptions{
		IOStreams: genericiooptions.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard},
	})
}

// kindTree is kind's own command tree (sigs.k8s.io/kind/pkg/cmd/kind).
func kindTree() *cobra.Command {
	return kindroot.NewCommand(kindlog.NoopLogger{}, kindcmd.IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
}

// parseWith resolves the subcommand, parses its flags and validates its
// positional arguments exactly as cobra does before running the tool.
func parseWith(root *cobra.Command, args []string) (*cobra.Command, error) {
	c, rest, err := root.Find(args)
	if err != nil {
		return nil, err
	}
	if c == root || !c.Runnable() {
		return nil, fmt.Errorf("%q is not a runnable %s command", strings.Join(args, " "), root.Name())
	}
	if err := c.ParseFlags(rest); err != nil {
		return nil, err
	}
	if err := c.ValidateArgs(c.Flags().Args()); err != nil {
		return nil, err
	}
	return c, nil
}

// flagSpec is a command of a tool whose command tree is not importable,
// with the flags it takes (true: the flag takes a value).
type flagSpec map[string]bool

// ciliumFlags are cilium-cli's commands the lab shows and their flags,
// from cilium-cli's source (cilium/cilium cilium-cli/cli: cmd.go's
// persistent flags, install.go, status.go, clustermesh.go) and the
// cmdref pages at docs.cilium.io. cilium-cli's command tree is in its
// main module, which the module proxy does not serve, so the lines are
// checked against this list rather than the tree.
var ciliumFlags = map[string]flagSpec{
	"install": {"--version": true, "--set": true, "--set-string": true, "--set-file": true, "--values": true, "-f": true,
		"--chart-directory": true, "--repository": true, "--datapath-mode": true, "--wait": false, "--wait-duration": true,
		"--dry-run": false, "--dry-run-helm-values": false, "--list-versions": false, "--nodes-without-cilium": false},
	"status":              {"--wait": false, "--wait-duration": true, "--ignore-warnings": false, "--worker-count": true, "--output": true, "-o": true, "--interactive": false},
	"clustermesh enable":  {"--service-type": true, "--enable-kvstoremesh": false, "--enable-external-workloads": false},
	"clustermesh connect": {"--destination-context": true, "--connection-mode": true, "--destination-endpoint": true, "--source-endpoint": true, "--parallel": true},
	"clustermesh status":  {"--wait": false, "--wait-duration": true, "--output": true, "-o": true},
	// cmdref: cilium_hubble_enable (only --relay, default true, and --ui)
	// and cilium_upgrade (install's Helm flags, with --reuse-values).
	"hubble enable": {"--relay": false, "--ui": false},
	"upgrade": {"--version": true, "--set": true, "--set-string": true, "--set-file": true, "--values": true, "-f": true,
		"--chart-directory": true, "--repository": true, "--reuse-values": false, "--reset-values": false, "--wait": false,
		"--wait-duration": true, "--dry-run": false, "--dry-run-helm-values": false},
}

// hubbleFlags are the hubble CLI's commands the lab shows and their flags
// (docs.cilium.io, observability/hubble: `hubble observe --help`); its
// tree is in cilium/hubble's main package, which cannot be imported.
var hubbleFlags = map[string]flagSpec{
	"observe": {"--server": true, "--from-label": true, "--to-label": true, "--label": true, "--last": true, "--follow": false, "-f": false,
		"--output": true, "-o": true, "--namespace": true, "-n": true, "--from-pod": true, "--to-pod": true, "--verdict": true, "--since": true},
}

// ciliumGlobal are cilium-cli's persistent flags (cmd.go).
var ciliumGlobal = flagSpec{"--context": true, "--namespace": true, "-n": true, "--as": true, "--as-group": true, "--helm-release-name": true, "--kubeconfig": true}

// checkFlags checks a line of a tool without an importable tree: a known
// command path, known flags, values where they take one, and no stray
// positional argument (none of these commands takes one).
func checkFlags(specs map[string]flagSpec, global flagSpec, args []string) error {
	var path []string
	i := 0
	for ; i < len(args) && !strings.HasPrefix(args[i], "-"); i++ {
		path = append(path, args[i])
	}
	spec, ok := specs[strings.Join(path, " ")]
	if !ok {
		return fmt.Errorf("unknown command %q", strings.Join(path, " "))
	}
	for ; i < len(args); i++ {
		name, _, inline := strings.Cut(args[i], "=")
		takes, ok := spec[name]
		if !ok {
			takes, ok = global[name]
		}
		switch {
		case !strings.HasPrefix(args[i], "-"):
			return fmt.Errorf("unexpected argument %q", args[i])
		case !ok:
			return fmt.Errorf("unknown flag %s for %q", name, strings.Join(path, " "))
		case takes && !inline:
			if i+1 >= len(args) {
				return fmt.Errorf("flag %s needs a value", name)
			}
			i++
		case !takes && inline:
			return fmt.Errorf("flag %s takes no value", name)
		}
	}
	return nil
}

// shownVars are the inputs the commands are checked with: a lab directory
// with a space in it, a values file, a request count other than the seed's.
func shownVars(t *testing.T) []steps.CommandVars {
	return []steps.CommandVars{
		{},
		{LabDir: "/home/learner/.local/state/clustermesh-lab/kind", Requests: 10},
		{LabDir: "/home/learner/my labs/cluster mesh", Requests: 37, Setup: steps.Setup{
			NodeImage: "registry.example:5000/kindest/node:v1.34.3", CiliumVersion: "1.20.0", ValuesFile: "/home/learner/workshop values.yaml"}},
	}
}

// TestShownCommandsParseWithTheRealTools parses every kubectl and kind line
// every step shows with the tool's own cobra command tree, checks cilium
// lines against cilium-cli's flags, and checks what the lines must carry:
// the node image, the Cilium version, the values file, the request count.
func TestShownCommandsParseWithTheRealTools(t *testing.T) {
	for _, v := range shownVars(t) {
		want := v
		if want.NodeImage == "" {
			want.NodeImage = cluster.DefaultNodeImage
		}
		if want.CiliumVersion == "" {
			want.CiliumVersion = cluster.DefaultCiliumVersion
		}
		if want.Requests == 0 {
			want.Requests = 10
		}
		seen := map[string]int{}
		for _, s := range steps.All() {
			for _, block := range s.Commands(v) {
				cmds, err := stepstest.Parse(block.Lines)
				if err != nil {
					t.Errorf("%s, %s: %q does not parse as a shell script: %v", s.ID(), block.Where, block.Lines, err)
					continue
				}
				for _, c := range cmds {
					seen[c.Args[0]]++
					where := fmt.Sprintf("%s, %s: %s", s.ID(), block.Where, c)
					switch c.Args[0] {
					case "kubectl":
						sub, err := parseWith(kubectlTree(), c.Args[1:])
						if err != nil {
							t.Errorf("%s: kubectl rejects it: %v", where, err)
							continue
						}
						if sub.Name() == "exec" {
							checkProbe(t, where, sub.Flags().Args(), want.Requests)
						}
					case "kind":
						sub, err := parseWith(kindTree(), c.Args[1:])
						if err != nil {
							t.Errorf("%s: kind rejects it: %v", where, err)
							continue
						}
						if sub.CommandPath() == "kind create cluster" {
							if img, _ := sub.Flags().GetString("image"); img != want.NodeImage {
								t.Errorf("%s: --image %q, want %q", where, img, want.NodeImage)
							}
							name, _ := sub.Flags().GetString("name")
							if cfg, _ := sub.Flags().GetString("config"); cfg != labfiles.KindConfigFile(cluster.Name(name)) {
								t.Errorf("%s: --config %q, want the seed's file", where, cfg)
							}
						}
					case "cilium":
						if err := checkFlags(ciliumFlags, ciliumGlobal, c.Args[1:]); err != nil {
							t.Errorf("%s: %v", where, err)
						}
						if c.Args[1] == "install" || c.Args[1] == "upgrade" {
							if got, _ := stepstest.Flag(c.Args, "--version"); got != want.CiliumVersion {
								t.Errorf("%s: --version %q, want %q", where, got, want.CiliumVersion)
							}
							if got, ok := stepstest.Flag(c.Args, "--values"); ok != (v.ValuesFile != "") || got != v.ValuesFile {
								t.Errorf("%s: --values %q, want %q", where, got, v.ValuesFile)
							}
						}
						if slices.Contains(c.Args, "--service-type") {
							if got, _ := stepstest.Flag(c.Args, "--service-type"); got != "NodePort" {
								t.Errorf("%s: --service-type %q", where, got)
							}
						}
					case "hubble":
						if err := checkFlags(hubbleFlags, nil, c.Args[1:]); err != nil {
							t.Errorf("%s: %v", where, err)
						}
						if got, _ := stepstest.Flag(c.Args, "--server"); got != fmt.Sprintf("localhost:%d", cluster.HubbleRelayNodePort) {
							t.Errorf("%s: --server %q, want the relay's NodePort on localhost", where, got)
						}
					case "cd":
						if c.Args[1] != v.LabDir {
							t.Errorf("%s: cd %q, want the lab directory %q", where, c.Args[1], v.LabDir)
						}
					case "export", "docker", "sysctl", "ss", "helm":
					default:
						t.Errorf("%s: the lab shows a %s command, which this test does not know", where, c.Args[0])
					}
				}
			}
		}
		for _, tool := range []string{"kubectl", "kind", "cilium", "hubble"} {
			if seen[tool] == 0 {
				t.Errorf("no %s line was shown", tool)
			}
		}
		if (v.LabDir != "") != (seen["cd"] == 3) {
			t.Errorf("lab dir %q: %d cd lines, want one per terminal (3) when there is a lab directory", v.LabDir, seen["cd"])
		}
		if seen["helm"] != 0 {
			t.Errorf("%d helm lines: the lab's steps show none since the enable step runs the seed's command in both clusters", seen["helm"])
		}
	}
}

// checkProbe checks the probe's `kubectl exec`: the command after `--` is
// the seed's loop, which must parse as a shell script and count to the
// requests in use.
func checkProbe(t *testing.T, where string, args []string, requests int) {
	t.Helper()
	if len(args) != 4 || args[0] != "deploy/busybox-deployment" || args[1] != "/bin/sh" || args[2] != "-c" {
		t.Errorf("%s: exec %q, want deploy/busybox-deployment -- /bin/sh -c SCRIPT", where, args)
		return
	}
	if _, err := syntax.NewParser().Parse(strings.NewReader(args[3]), ""); err != nil {
		t.Errorf("%s: busybox's sh would not parse the loop: %v", where, err)
	}
	if want := fmt.Sprintf("for i in $(seq 1 %d); do wget -qO- hello-world:80; echo \"\"; done", requests); args[3] != want {
		t.Errorf("%s: script %q, want %q", where, args[3], want)
	}
}
