package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// `make test` is the whole suite on a fresh machine: with no control-plane
// binaries it builds them before the integration suite, which it runs so
// that a missing binary fails instead of skipping; and CI runs exactly
// `make test`. Checked with make's dry run, which runs nothing.
func TestMakeTestIsTheWholeSuite(t *testing.T) {
	if _, err := exec.LookPath("make"); err != nil {
		t.Skipf("make is not installed: %v", err)
	}
	empty := t.TempDir()
	out, err := exec.Command("make", "-n", "test", "K8SBINS_DIR="+empty).CombinedOutput()
	if err != nil {
		t.Fatalf("make -n test: %v\n%s", err, out)
	}
	s := string(out)
	unit := strings.Index(s, "go test -race -count=1 ./...")
	build := strings.Index(s, "hack/k8sbins/build.sh "+empty)
	integ := strings.Index(s, "CLUSTERMESH_LAB_INTEGRATION=1")
	if unit < 0 || build < 0 || integ < 0 || !(unit < build && build < integ) {
		t.Errorf("make test does not run the unit tests, build the control planes, then the integration suite (required), in that order:\n%s", s)
	}
	if !strings.Contains(s, "KUBEBUILDER_ASSETS="+empty) {
		t.Errorf("the integration suite does not read the binaries it built:\n%s", s)
	}
	ci, err := os.ReadFile(".ci/run")
	if err != nil {
		t.Fatal(err)
	}
	var cmds []string
	for _, line := range strings.Split(string(ci), "\n") {
		if l := strings.TrimSpace(line); strings.HasPrefix(l, "make") {
			cmds = append(cmds, l)
		}
	}
	if len(cmds) != 1 || cmds[0] != "make test" {
		t.Errorf(".ci/run runs %q, want exactly make test", cmds)
	}
}
