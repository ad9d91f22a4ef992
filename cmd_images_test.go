package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/real"
)

// sharedChart is a published chart of ../shared/charts; tests skip without it.
func sharedChart(t *testing.T, version string) string {
	t.Helper()
	p, err := filepath.Abs(filepath.Join("..", "shared", "charts", "cilium-"+version+".tgz"))
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		t.Skipf("no published chart %s beside the repository: %v", version, err)
	}
	return p
}

// TestImagesList: the text output is the JSON's references, one a line,
// the node image first; --preload names the chart's images without digests.
func TestImagesList(t *testing.T) {
	for _, version := range []string{"1.19.5", "1.20.0"} {
		chart := sharedChart(t, version)
		var doc struct {
			CiliumVersion string
			Images        []real.Image
		}
		out := mustCLI(t, "images", "list", "--cilium-chart", chart, "-o", "json")
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatalf("%v\n%s", err, out)
		}
		if doc.CiliumVersion != version || len(doc.Images) < 8 || doc.Images[0].Ref != cluster.DefaultNodeImage {
			t.Errorf("%s: %+v", version, doc)
		}
		var want []string
		for _, img := range doc.Images {
			want = append(want, img.Ref)
		}
		if text := mustCLI(t, "images", "list", "--cilium-chart", chart); text != strings.Join(want, "\n")+"\n" {
			t.Errorf("%s: text output\n%s\nwant\n%s", version, text, strings.Join(want, "\n"))
		}
		plain := mustCLI(t, "images", "list", "--cilium-chart", chart, "--preload")
		for _, l := range strings.Split(strings.TrimSpace(plain), "\n")[1:] {
			if strings.Contains(l, "@") {
				t.Errorf("%s --preload: %s", version, l)
			}
		}
	}
}

// writeBundle writes a bundle of the published 1.19.5 chart and a small
// archive standing for the images.
func writeBundle(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	node := filepath.Join(dir, "node.tar")
	archive := filepath.Join(dir, "images.tar")
	if err := os.WriteFile(node, []byte("the node image"), 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(archive, bytes.Repeat([]byte("image layer "), 1000), 0o644); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "lab.bundle")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	m := real.BundleManifest{Created: time.Now().UTC(), CiliumVersion: "1.19.5", NodeImage: "kindest/node:v1.35.8", Kubernetes: "v1.35.8",
		Images: []real.Image{real.ParseImage("kindest/node:v1.35.8", real.ForNode)}}
	if _, err := real.WriteBundle(f, m, sharedChart(t, "1.19.5"), node, archive); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestBundleVerifyCommand: a good bundle verifies and says what it holds;
// a tampered one is refused, by `bundle verify` and by `--bundle` before
// the lab opens (no lab directory is made).
func TestBundleVerifyCommand(t *testing.T) {
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	path := writeBundle(t)
	out := mustCLI(t, "bundle", "verify", path)
	for _, want := range []string{"Cilium 1.19.5", "node image kindest/node:v1.35.8", "cilium-1.19.5.tgz", "node-image.tar", "images.tar", "Verified"} {
		if !strings.Contains(out, want) {
			t.Errorf("bundle verify lacks %q:\n%s", want, out)
		}
	}
	b, _ := os.ReadFile(path)
	i := bytes.LastIndex(b, []byte("image layer"))
	b[i] = 'I'
	bad := filepath.Join(t.TempDir(), "tampered.bundle")
	if err := os.WriteFile(bad, b, 0o644); err != nil {
		t.Fatal(err)
	}
	code, out, errs := cli(t, "bundle", "verify", bad)
	checkFailure(t, []string{"bundle", "verify", bad}, code, out, errs, 1, "invalid bundle "+bad+": images.tar is damaged or was changed", "bundle verify")
	lab := filepath.Join(t.TempDir(), "lab")
	code, out, errs = cli(t, "run", "--headless", "--lab-dir", lab, "--bundle", bad)
	checkFailure(t, []string{"--bundle", bad}, code, out, errs, 1, "--bundle: invalid bundle", "copy the bundle again")
	if _, err := os.Stat(lab); !os.IsNotExist(err) {
		t.Errorf("a refused bundle made the lab directory: %v", err)
	}
}

// TestWorkshopFlagsBadInput: the workshop flags are the real backend's,
// checked when the command line is read.
func TestWorkshopFlagsBadInput(t *testing.T) {
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	for _, tc := range []struct {
		args          []string
		code          int
		wantErr, hint string
	}{
		{[]string{"run", "--backend", "sim", "--preload"}, 2, "--preload applies to real clusters (--backend kind), not to the simulated mesh", "drop --preload"},
		{[]string{"run", "--backend", "sim", "--registry-mirror", "http://10.0.0.5:5000"}, 2, "--registry-mirror applies to real clusters", ""},
		{[]string{"run", "--backend", "sim", "--bundle", "lab.bundle"}, 2, "--bundle applies to real clusters", ""},
		{[]string{"run", "--backend", "kind", "--registry-mirror", "ftp://10.0.0.5"}, 2, `invalid --registry-mirror "ftp://10.0.0.5"`, "http://192.168.1.10:5000"},
		{[]string{"run", "--backend", "kind", "--bundle", "lab.bundle", "--node-image", "kindest/node:v1.34.3"}, 2, "--bundle and --node-image cannot go together", ""},
		{[]string{"run", "--backend", "kind", "--bundle", "/nonexistent/lab.bundle"}, 1, "open the bundle", "bundle create"},
		{[]string{"images", "list", "-o", "yaml"}, 2, `invalid -o "yaml"`, ""},
		{[]string{"images"}, 2, "images needs a command", "images list"},
		{[]string{"bundle", "create"}, 2, "accepts 1 arg", ""},
	} {
		code, out, errs := cli(t, tc.args...)
		checkFailure(t, tc.args, code, out, errs, tc.code, tc.wantErr, tc.hint)
	}
}
