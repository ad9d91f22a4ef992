package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"sigs.k8s.io/yaml"

	"github.com/clustermesh-lab/clustermesh-lab/steps/stepstest"
)

// The real backend's file flags are read when the command line is: a
// values file that is not YAML or a chart that is not the published one is
// a usage error (exit 2) before anything else happens, engine or not.
func TestRealBackendFilesAreCheckedAtStart(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := []struct {
		name, flag, value, wantErr, wantHint string
	}{
		{"values file missing", "--cilium-values", filepath.Join(dir, "nope.yaml"), "--cilium-values: read the Helm values file", "YAML file of Helm values"},
		{"values file a list", "--cilium-values", write("list.yaml", "- a\n- b\n"), "is not a YAML map of values", "YAML file of Helm values"},
		{"values file broken", "--cilium-values", write("broken.yaml", "image: {repository: [\n"), "is not a YAML map of values", ""},
		{"chart not a chart", "--cilium-chart", write("junk.tgz", "not a chart"), "--cilium-chart: load", "published chart package"},
		{"chart missing", "--cilium-chart", filepath.Join(dir, "none.tgz"), "--cilium-chart:", ""},
		{"node image with a space", "--node-image", "kindest/node:v1.35.8 ", "invalid --node-image", ""},
	}
	if published := filepath.Join("..", "shared", "charts", "cilium-1.19.5.tgz"); fileExists(published) {
		ch, err := loader.Load(published)
		if err != nil {
			t.Fatal(err)
		}
		repacked, err := chartutil.Save(ch, t.TempDir())
		if err != nil {
			t.Fatal(err)
		}
		cases = append(cases, struct{ name, flag, value, wantErr, wantHint string }{
			"chart repackaged", "--cilium-chart", repacked, "chart package does not match the published one", "helm pull cilium/cilium"})
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			lab := filepath.Join(t.TempDir(), "lab")
			for _, args := range [][]string{
				{"run", "--headless", "--backend", "kind", "--lab-dir", lab, tc.flag, tc.value},
				{"--backend", "kind", "--lab-dir", lab, tc.flag, tc.value},
			} {
				code, out, errs := cli(t, args...)
				checkFailure(t, args, code, out, errs, 2, tc.wantErr, tc.wantHint)
				if _, err := os.Stat(lab); err == nil {
					t.Errorf("%q created the lab directory", args)
				}
			}
		})
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// helm-values with --cilium-values prints the values the lab would apply:
// the file's merged over the lab's, the step's own values kept.
func TestHelmValuesWithUserValues(t *testing.T) {
	vals := filepath.Join(t.TempDir(), "mirror.yaml")
	if err := os.WriteFile(vals, []byte("image:\n  repository: registry.local/cilium/cilium\n  useDigest: false\ncluster:\n  name: mars\noperator:\n  replicas: 2\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "helm-values", "--cluster", "us", "--stage", "install", "--cilium-values", vals)
	if !strings.Contains(out, "They include your values from "+vals) || !strings.Contains(out, "helm repo add cilium https://helm.cilium.io") || !strings.Contains(out, "--version 1.19.5") {
		t.Errorf("header:\n%s", out)
	}
	var got map[string]any
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	img, _ := got["image"].(map[string]any)
	cl, _ := got["cluster"].(map[string]any)
	op, _ := got["operator"].(map[string]any)
	if img["repository"] != "registry.local/cilium/cilium" || cl["name"] != "us" || op["replicas"] != float64(2) {
		t.Errorf("merged values: %v", got)
	}
	checkHelmLines(t, out)
	// Connect without --peer-port: the chart's NodePort, the same in both clusters.
	out = mustCLI(t, "helm-values", "--cluster", "eu", "--stage", "connect", "--peer-ip", "172.18.0.2")
	if !strings.Contains(out, "port: 32379") || strings.Contains(out, "32380") {
		t.Errorf("connect values:\n%s", out)
	}
	code, stdout, errs := cli(t, "helm-values", "--cluster", "us", "--stage", "enable", "--cilium-values", filepath.Join(t.TempDir(), "missing.yaml"))
	checkFailure(t, []string{"helm-values"}, code, stdout, errs, 2, "--cilium-values: read the Helm values file", "")
}

// doctor compares the node image's Kubernetes with the Cilium release's
// tested range, whatever the machine's engine says (the other checks'
// outcome, and so the exit status, depend on the machine).
func TestDoctorNamesTheKubernetesVersion(t *testing.T) {
	_, out, _ := cli(t, "doctor", "--node-image", "kindest/node:v1.37.0", "--cilium-version", "1.19.5")
	if !strings.Contains(out, "Kubernetes version: v1.37.0 (node image kindest/node:v1.37.0) is outside the range Cilium 1.19.5 is tested with (1.32-1.35)") {
		t.Errorf("doctor printed:\n%s", out)
	}
	_, out, _ = cli(t, "doctor")
	if !strings.Contains(out, "Kubernetes version: v1.35.8 (node image kindest/node:v1.35.8@sha256:07b2536e30b803ed61d1677a79df6115f798ce64c80f9e22f6ed45afd09323c0), which Cilium 1.19.5 is tested with (1.32-1.35)") {
		t.Errorf("doctor printed:\n%s", out)
	}
}

// helmFlags are the helm commands helm-values shows and their flags (true:
// takes a value), from helm's command reference (helm.sh/docs/helm:
// helm_repo_add, helm_upgrade, and the global --namespace/-n and
// --kube-context). helm's cobra tree is in its package main, which cannot
// be imported, so its lines are checked against this list.
var helmFlags = map[string]map[string]bool{
	"repo add": {},
	"upgrade":  {"--install": false, "-i": false, "--version": true, "--reuse-values": false, "--values": true, "-f": true, "--set": true},
}

var helmGlobal = map[string]bool{"--namespace": true, "-n": true, "--kube-context": true}

// helmPositional is how many arguments each command takes.
var helmPositional = map[string]int{"repo add": 2, "upgrade": 2}

// checkHelmLines parses the helm lines of helm-values' header as a shell
// would and checks them against helmFlags: a helm repo add, then an upgrade
// that names --version.
func checkHelmLines(t *testing.T, out string) {
	t.Helper()
	var seen []string
	for _, line := range strings.Split(out, "\n") {
		text, ok := strings.CutPrefix(line, "#   helm ")
		if !ok {
			continue
		}
		cmds, err := stepstest.Parse([]string{"helm " + text})
		if err != nil || len(cmds) != 1 {
			t.Errorf("%q does not parse as one command: %v", text, err)
			continue
		}
		args := cmds[0].Args[1:]
		path := args[0]
		if path == "repo" {
			path, args = "repo add", args[1:]
		}
		spec, ok := helmFlags[path]
		if !ok {
			t.Errorf("unknown helm command in %q", text)
			continue
		}
		seen = append(seen, path)
		var positional []string
		for i := 1; i < len(args); i++ {
			a := args[i]
			if !strings.HasPrefix(a, "-") {
				positional = append(positional, a)
				continue
			}
			takes, ok := spec[a]
			if !ok {
				takes, ok = helmGlobal[a]
			}
			if !ok {
				t.Errorf("helm %s has no flag %s: %q", path, a, text)
			}
			if takes {
				i++
			}
		}
		if len(positional) != helmPositional[path] {
			t.Errorf("helm %s takes %d arguments, got %q", path, helmPositional[path], positional)
		}
		if path == "upgrade" && !strings.Contains(text, "--version ") {
			t.Errorf("the helm upgrade line names no --version: %q", text)
		}
	}
	if strings.Join(seen, ",") != "repo add,upgrade" {
		t.Errorf("helm lines %v, want repo add then upgrade:\n%s", seen, out)
	}
}

// helm-values --stage hubble prints the hubble step's values: relay and
// UI on, their Services NodePorts on the seed's ports; a values file that
// turns the UI off is merged as the lab merges it (the UI stays off, the
// pinned Service types stay NodePort).
func TestHelmValuesHubble(t *testing.T) {
	out := mustCLI(t, "helm-values", "--cluster", "us", "--stage", "hubble")
	var got struct {
		Hubble struct {
			Enabled bool `json:"enabled"`
			Relay   struct {
				Enabled bool `json:"enabled"`
				Service struct {
					Type     string `json:"type"`
					NodePort int    `json:"nodePort"`
				} `json:"service"`
			} `json:"relay"`
			UI struct {
				Enabled bool `json:"enabled"`
				Service struct {
					Type     string `json:"type"`
					NodePort int    `json:"nodePort"`
				} `json:"service"`
			} `json:"ui"`
		} `json:"hubble"`
	}
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	h := got.Hubble
	if !h.Enabled || !h.Relay.Enabled || !h.UI.Enabled || h.Relay.Service.Type != "NodePort" || h.Relay.Service.NodePort != 31234 || h.UI.Service.Type != "NodePort" || h.UI.Service.NodePort != 31235 {
		t.Errorf("hubble values %+v from:\n%s", h, out)
	}
	if !strings.Contains(out, "--reuse-values -f values-us-hubble.yaml") {
		t.Errorf("the helm line does not reuse the release's values:\n%s", out)
	}
	checkHelmLines(t, out)

	vals := filepath.Join(t.TempDir(), "e2e.yaml")
	if err := os.WriteFile(vals, []byte("hubble:\n  ui:\n    enabled: false\n    service:\n      type: ClusterIP\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, "helm-values", "--cluster", "eu", "--stage", "hubble", "--cilium-values", vals)
	if err := yaml.Unmarshal([]byte(out), &got); err != nil {
		t.Fatal(err)
	}
	if h := got.Hubble; h.UI.Enabled || !h.Relay.Enabled || h.UI.Service.Type != "NodePort" {
		t.Errorf("merged hubble values %+v from:\n%s", h, out)
	}
}
