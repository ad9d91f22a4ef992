package main

import (
	"bytes"
	"encoding/json"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// childEnv makes the test binary act as clustermesh-lab itself, so tests can
// run the real command line in a process they are free to kill.
const childEnv = "CLUSTERMESH_LAB_TEST_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		os.Exit(run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// cli runs the command line in process.
func cli(t testing.TB, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// mustCLI runs the command line and fails the test unless it succeeds.
func mustCLI(t testing.TB, args ...string) string {
	t.Helper()
	code, out, errs := cli(t, args...)
	if code != 0 {
		t.Fatalf("clustermesh-lab %s: exit %d\n%s\n%s", strings.Join(args, " "), code, errs, tail(out, 20))
	}
	return out
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// newLab runs the simulated lab up to step `to` in a new lab directory.
func newLab(t testing.TB, to string) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", dir, "--to", to)
	return dir
}

// snapshot reads every file of a lab directory but the lock, which records
// the pid of whoever opened it last.
func snapshot(t testing.TB, dir string) map[string]string {
	t.Helper()
	files := map[string]string{}
	err := filepath.WalkDir(dir, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || d.Name() == "lab.lock" {
			return err
		}
		b, err := os.ReadFile(path)
		files[strings.TrimPrefix(path, dir)] = string(b)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return files
}

func TestBadInput(t *testing.T) {
	// Cases without --lab-dir must fail before any lab directory is opened;
	// should one not, it lands here rather than in the user's state.
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	sim := []string{"--backend", "sim", "--sim-speed", "instant"}
	type tc struct {
		name string
		// args builds the command line; dir is a fresh temporary directory.
		args     func(t *testing.T, dir string) []string
		code     int
		wantErr  string
		wantHint string
	}
	static := func(args ...string) func(*testing.T, string) []string {
		return func(*testing.T, string) []string { return args }
	}
	inLab := func(extra ...string) func(*testing.T, string) []string {
		return func(t *testing.T, dir string) []string {
			return append([]string{"run", "--headless", "--lab-dir", newLab(t, "connect")}, extra...)
		}
	}
	corrupt := func(file string) func(*testing.T, string) []string {
		return func(t *testing.T, dir string) []string {
			lab := newLab(t, "connect")
			if err := os.WriteFile(filepath.Join(lab, file), []byte(`{"version": 1, "trunc`), 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--headless", "--lab-dir", lab}, sim...)
		}
	}
	// edit replaces old by new in a file of a lab run to deploy.
	edit := func(file, old, new string) func(*testing.T, string) []string {
		return func(t *testing.T, dir string) []string {
			lab := newLab(t, "deploy")
			b, err := os.ReadFile(filepath.Join(lab, file))
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Contains(b, []byte(old)) {
				t.Fatalf("%s lacks %q", file, old)
			}
			if err := os.WriteFile(filepath.Join(lab, file), bytes.Replace(b, []byte(old), []byte(new), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--headless", "--lab-dir", lab}, sim...)
		}
	}
	// project is a directory of the learner's, with files that are no lab's.
	project := func(dir string) string {
		p := filepath.Join(dir, "project")
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for _, f := range []string{"go.mod", "main.go"} {
			if err := os.WriteFile(filepath.Join(p, f), []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
		}
		return p
	}
	cases := []tc{
		// Unknown flags and commands.
		{"unknown flag on the root", static("--bogus"), 2, "unknown flag: --bogus", ""},
		{"unknown flag on run", static("run", "--colour"), 2, "unknown flag: --colour", ""},
		{"unknown flag on simulate", static("simulate", "--cluster", "us"), 2, "unknown flag: --cluster", ""},
		{"unknown shorthand", static("run", "-x"), 2, "unknown shorthand flag", ""},
		{"unknown command", static("frobnicate"), 2, `unknown command "frobnicate"`, "clustermesh-lab --help lists the commands"},
		{"stray argument", static("steps", "extra"), 2, "extra", ""},
		{"flag without its value", static("run", "--from"), 2, "flag needs an argument", ""},
		{"bad seed", static("run", "--seed", "-1"), 2, `invalid argument "-1" for "--seed"`, ""},
		// Step ids.
		{"unknown --from step", static(append([]string{"run", "--from", "nope"}, sim...)...), 2, `--from: unknown step "nope"`, ""},
		{"unknown --to step", static(append([]string{"run", "--to", "the-end"}, sim...)...), 2, `--to: unknown step "the-end"`, ""},
		{"--from after --to", static(append([]string{"run", "--from", "deploy", "--to", "connect"}, sim...)...), 2, "--from deploy comes after --to connect", ""},
		// Malformed --us / --eu.
		{"unknown key", static("simulate", "--us", "global=true,colour=red"), 2, `--us: unknown key "colour"`, ""},
		{"bad bool", static("simulate", "--eu", "global=maybe"), 2, "--eu: global=maybe: want true or false", ""},
		{"bad shared", static("simulate", "--eu", "shared=2"), 2, "--eu: shared=2", ""},
		{"bad connected", static("simulate", "--us", "connected=yes please"), 2, "--us: connected=yes please", ""},
		{"bad affinity", static("simulate", "--us", "affinity=nearest"), 2, `unknown affinity "nearest"`, ""},
		{"replicas too many", static("simulate", "--us", "replicas=51"), 2, "51 is outside 0..50", ""},
		{"replicas negative", static("simulate", "--eu", "replicas=-1"), 2, "-1 is outside 0..50", ""},
		{"replicas not a number", static("simulate", "--eu", "replicas=two"), 2, "--eu: replicas=two", ""},
		{"duplicate key", static("simulate", "--us", "global=true,Global=false"), 2, "--us: global is given twice", ""},
		{"missing '='", static("simulate", "--us", "global"), 2, `--us: "global" is not KEY=VAL`, ""},
		{"missing value", static("simulate", "--us", "affinity="), 2, `--us: "affinity=" is not KEY=VAL`, ""},
		{"missing key", static("simulate", "--eu", "=true"), 2, `--eu: "=true" is not KEY=VAL`, ""},
		{"bad --from cluster", static("simulate", "--from", "asia"), 2, `unknown cluster "asia"`, ""},
		// --requests.
		{"run --requests 0", static(append([]string{"run", "--requests", "0"}, sim...)...), 2, "invalid --requests 0: want 1..10000", ""},
		{"run --requests huge", static(append([]string{"run", "--requests", "1000000"}, sim...)...), 2, "invalid --requests 1000000", ""},
		{"root --requests negative", static(append([]string{"--requests", "-3"}, sim...)...), 2, "invalid --requests -3", ""},
		{"simulate --requests 0", static("simulate", "--requests", "0"), 2, "invalid --requests 0: want 1..10000000", ""},
		{"simulate --requests huge", static("simulate", "--requests", "10000001"), 2, "invalid --requests 10000001", ""},
		{"simulate --requests overflow", static("simulate", "--requests", "99999999999999999999"), 2, "invalid argument", ""},
		// Other flag values.
		{"--output bad", static("simulate", "-o", "yaml"), 2, `invalid --output "yaml": want text or json`, ""},
		{"--sim-speed bad", static("run", "--backend", "sim", "--sim-speed", "warp"), 2, `invalid --sim-speed: unknown speed "warp"`, ""},
		{"--sim-speed negative", static("run", "--backend", "sim", "--sim-speed", "-1"), 2, `invalid --sim-speed: unknown speed "-1"`, ""},
		{"--sim-speed NaN", static("run", "--backend", "sim", "--sim-speed", "NaN"), 2, `invalid --sim-speed: unknown speed "NaN"`, ""},
		{"--backend bad", static("run", "--backend", "docker"), 2, `invalid --backend "docker": want sim, kind or auto`, ""},
		// Lab directories.
		{"lab dir is a file", func(t *testing.T, dir string) []string {
			f := filepath.Join(dir, "lab")
			if err := os.WriteFile(f, []byte("not a lab"), 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--lab-dir", f}, sim...)
		}, 1, "is a file, not a directory", "another --lab-dir"},
		{"lab dir unwritable (under a file)", func(t *testing.T, dir string) []string {
			f := filepath.Join(dir, "file")
			if err := os.WriteFile(f, nil, 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--lab-dir", filepath.Join(f, "lab")}, sim...)
		}, 1, "create lab directory", "writable --lab-dir"},
		{"corrupt lab.json", corrupt(labdir.MetaFile), 1, "lab.json is corrupt", "--fresh"},
		{"corrupt sim-state.json", corrupt(simStateFile), 1, "sim-state.json is corrupt", "--fresh"},
		{"corrupt journal.json", corrupt(steps.JournalFile), 1, "journal.json is corrupt", "--fresh"},
		{"lab dir of the other backend", func(t *testing.T, dir string) []string {
			lab := newLab(t, "preflight")
			meta := filepath.Join(lab, labdir.MetaFile)
			b, err := os.ReadFile(meta)
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(meta, bytes.Replace(b, []byte(`"sim"`), []byte(`"kind"`), 1), 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--lab-dir", lab}, sim...)
		}, 1, "holds a lab on the kind backend, not sim", "--backend kind"},
		{"--seed differs from the lab's", inLab(append([]string{"--seed", "7"}, sim...)...), 2, "was started with --seed 1, not 7", "drop --seed"},
		// Lab directories that are no lab: --lab-dir and --fresh refuse them.
		{"--lab-dir a project directory", func(t *testing.T, dir string) []string {
			return append([]string{"run", "--lab-dir", project(dir)}, sim...)
		}, 1, "project is not a lab directory: it holds go.mod, main.go and no lab.json", "new or empty directory"},
		{"--fresh on a project directory", func(t *testing.T, dir string) []string {
			return append([]string{"run", "--fresh", "--lab-dir", project(dir)}, sim...)
		}, 1, "project is not a lab directory", "new or empty directory"},
		{"--fresh --lab-dir . in a project", func(t *testing.T, dir string) []string {
			t.Chdir(project(dir))
			return append([]string{"--fresh", "--lab-dir", "."}, sim...)
		}, 1, "project is not a lab directory", "nothing was changed"},
		{"--fresh --lab-dir . in a lab", func(t *testing.T, dir string) []string {
			t.Chdir(newLab(t, "preflight"))
			return append([]string{"run", "--fresh", "--lab-dir", "."}, sim...)
		}, 1, "which holds the current directory", "cd .."},
		{"--fresh --lab-dir .. below a lab", func(t *testing.T, dir string) []string {
			sub := filepath.Join(newLab(t, "preflight"), "notes")
			if err := os.Mkdir(sub, 0o755); err != nil {
				t.Fatal(err)
			}
			t.Chdir(sub)
			return append([]string{"run", "--fresh", "--lab-dir", ".."}, sim...)
		}, 1, "which holds the current directory", "cd .."},
		{"--fresh --lab-dir $HOME", func(t *testing.T, dir string) []string {
			lab := newLab(t, "preflight")
			t.Setenv("HOME", lab)
			return append([]string{"run", "--fresh", "--lab-dir", lab}, sim...)
		}, 1, "your home directory", "another --lab-dir"},
		{"--fresh on a file", func(t *testing.T, dir string) []string {
			f := filepath.Join(dir, "notes.txt")
			if err := os.WriteFile(f, []byte("mine"), 0o600); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--fresh", "--lab-dir", f}, sim...)
		}, 1, "is a file, not a directory", "another --lab-dir"},
		{"lab dir a dangling link", func(t *testing.T, dir string) []string {
			l := filepath.Join(dir, "lab")
			if err := os.Symlink(filepath.Join(dir, "gone"), l); err != nil {
				t.Fatal(err)
			}
			return append([]string{"run", "--fresh", "--lab-dir", l}, sim...)
		}, 1, "is a symbolic link to", "create "},
		// Damaged lab files that still parse: what they claim is impossible.
		{"lab.json of backend mars", edit(labdir.MetaFile, `"sim"`, `"mars"`), 1, `lab.json is corrupt: unknown backend "mars"`, "--fresh"},
		{"journal probe from mars", edit(steps.JournalFile, `"from": "us"`, `"from": "mars"`), 1, `journal.json is corrupt: decode journal: probe 1 (deploy): from unknown cluster "mars"`, "--fresh"},
		{"journal with negative answers", edit(steps.JournalFile, `"us": 10,`, `"us": -10,`), 1, "journal.json is corrupt: decode journal: probe 1 (deploy): negative counts", "--fresh"},
		{"journal answers+errors ≠ requests", edit(steps.JournalFile, `"errors": 0`, `"errors": 3`), 1, "is not the 10 requests sent", "--fresh"},
		{"journal of an unknown step", edit(steps.JournalFile, `"connect": {`, `"warp": {`), 1, `journal.json is corrupt: decode journal: unknown step "warp"`, "--fresh"},
		{"sim state with negative agents", edit(simStateFile, `"agentsReady":3`, `"agentsReady":-3`), 1, "sim-state.json is corrupt: cluster eu: cilium: -3 agents ready on 3 nodes", "--fresh"},
		{"sim state of another seed", edit(simStateFile, `"seed":1`, `"seed":9`), 1, "sim-state.json is corrupt: state of seed 9, lab of seed 1", "--fresh"},
		// Flags that cannot mean anything with the chosen backend.
		{"--cilium-chart with sim", static("run", "--backend", "sim", "--cilium-chart", "cilium.tgz"), 2,
			"--cilium-chart applies to real clusters (--backend kind), not to the simulated mesh (--backend sim)", "drop --cilium-chart, or use --backend kind"},
		{"--cilium-version with sim", static("--backend", "sim", "--cilium-version", "1.18.11"), 2, "--cilium-version applies to real clusters", "--backend kind"},
		{"--node-image with sim", static("run", "--backend", "sim", "--node-image", "kindest/node:v1.35.8"), 2, "--node-image applies to real clusters", "drop --node-image, or use --backend kind"},
		{"--cilium-values with sim (before its file is read)", static("run", "--backend", "sim", "--cilium-values", "missing.yaml"), 2, "--cilium-values applies to real clusters", "drop --cilium-values"},
		{"--us-kubeconfig with sim", static("run", "--backend", "sim", "--us-kubeconfig", "us.yaml"), 2, "--us-kubeconfig applies to real clusters", "--backend kind"},
		{"both kubeconfigs with sim", static("run", "--backend", "sim", "--us-kubeconfig", "a", "--eu-kubeconfig", "b"), 2, "--us-kubeconfig, --eu-kubeconfig apply to real clusters", ""},
		{"--eu-context with sim", static("run", "--backend", "sim", "--eu-context", "kind-eu"), 2, "--eu-context applies to real clusters", ""},
		{"--sim-speed with kind", static("run", "--backend", "kind", "--sim-speed", "instant"), 2,
			"--sim-speed applies to the simulated mesh (--backend sim), not to real clusters (--backend kind)", "drop --sim-speed, or use --backend sim"},
		{"--seed with kind", static("--backend", "kind", "--seed", "3"), 2, "--seed applies to the simulated mesh", "--backend sim"},
		{"sim and kind flags with auto", static("run", "--sim-speed", "instant", "--cilium-chart", "c.tgz"), 2,
			"--cilium-chart applies to real clusters (--backend kind) and --sim-speed applies to the simulated mesh (--backend sim): they cannot go together", "choose one backend"},
		// Misspelt commands and flags get the nearest one.
		{"misspelt command", static("stesp"), 2, `unknown command "stesp"`, "did you mean clustermesh-lab steps?"},
		{"misspelt command simulate", static("simualte", "--us", "global=true"), 2, `unknown command "simualte"`, "did you mean clustermesh-lab simulate?"},
		{"misspelt flag", static("run", "--fersh"), 2, "unknown flag: --fersh", "did you mean --fresh?"},
		{"lab dir in use", func(t *testing.T, dir string) []string {
			lab := newLab(t, "preflight")
			d, err := labdir.Open(lab, "sim", 1)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { d.Close() })
			return append([]string{"run", "--lab-dir", lab}, sim...)
		}, 1, "is using lab directory", "another --lab-dir"},
	}
	if os.Geteuid() != 0 {
		// Root ignores permissions; the case under a file above covers it there.
		cases = append(cases, tc{"lab dir unwritable (mode 0500)", func(t *testing.T, dir string) []string {
			ro := filepath.Join(dir, "ro")
			if err := os.Mkdir(ro, 0o500); err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { os.Chmod(ro, 0o700) })
			return append([]string{"run", "--lab-dir", ro}, sim...)
		}, 1, "is not writable", "--lab-dir"})
	}
	// These fail in a step: its progress is on stdout, which must not
	// repeat the error or its hint, and the lab directory is a new one.
	atStep := map[string]bool{}
	for _, c := range []tc{
		{"--us-kubeconfig missing", func(t *testing.T, dir string) []string {
			own := filepath.Join(dir, "eu.yaml")
			if err := os.WriteFile(own, []byte(minimalKubeconfig), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"run", "--backend", "kind", "--lab-dir", filepath.Join(dir, "lab"),
				"--us-kubeconfig", filepath.Join(dir, "missing.yaml"), "--eu-kubeconfig", own}
		}, 1, `step "preflight": preflight failed: Cluster us (yours): load the kubeconfig of us (its current context of `, "check the kubeconfig file and context given for us"},
		{"--eu-context not in the kubeconfig", func(t *testing.T, dir string) []string {
			own := filepath.Join(dir, "own.yaml")
			if err := os.WriteFile(own, []byte(minimalKubeconfig), 0o600); err != nil {
				t.Fatal(err)
			}
			return []string{"run", "--lab-dir", filepath.Join(dir, "lab"), "--us-kubeconfig", own, "--eu-kubeconfig", own, "--eu-context", "kind-eu"}
		}, 1, `Cluster eu (yours): load the kubeconfig of eu (context kind-eu of `, "check the kubeconfig file and context given for eu"},
		{"a step run before its time", func(t *testing.T, dir string) []string {
			return append([]string{"run", "--from", "deploy", "--to", "deploy", "--lab-dir", filepath.Join(dir, "lab")}, sim...)
		}, 1, `step "deploy": deploy the demo in us: us: the cluster does not exist; deploy the demo in eu: eu: the cluster does not exist`, "run step 2 (create-clusters) first"},
	} {
		atStep[c.name] = true
		cases = append(cases, c)
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dir := t.TempDir()
			args := c.args(t, dir)
			labDir := ""
			for i, a := range args {
				if a == "--lab-dir" {
					labDir = args[i+1]
				}
			}
			var before map[string]string
			if fi, err := os.Stat(labDir); labDir != "" && err == nil && fi.IsDir() {
				before = snapshot(t, labDir)
			}
			code, out, errs := cli(t, args...)
			if atStep[c.name] {
				msg, _, _ := strings.Cut(strings.TrimPrefix(errs, "clustermesh-lab: "), "\n")
				if strings.Contains(out, msg) || strings.Contains(out, "What to do") {
					t.Errorf("the error is printed twice, on stdout too:\n%s\nstderr:\n%s", tail(out, 10), errs)
				}
				out = ""
			}
			checkFailure(t, args, code, out, errs, c.code, c.wantErr, c.wantHint)
			if before != nil {
				after := snapshot(t, labDir)
				if len(after) != len(before) {
					t.Errorf("files in the lab directory changed: %d before, %d after", len(before), len(after))
				}
				for name, content := range before {
					if after[name] != content {
						t.Errorf("%s changed or disappeared", name)
					}
				}
			}
		})
	}
}

// checkFailure asserts a clean failure: the exit code, nothing on stdout,
// one error line (plus at most one "What to do" line) on stderr, no panic.
func checkFailure(t *testing.T, args []string, code int, out, errs string, wantCode int, wantErr, wantHint string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("%q: exit %d, want %d; stderr:\n%s", args, code, wantCode, errs)
	}
	if out != "" {
		t.Errorf("%q printed on stdout:\n%s", args, tail(out, 10))
	}
	lines := strings.Split(strings.TrimSuffix(errs, "\n"), "\n")
	if !strings.HasPrefix(lines[0], "clustermesh-lab: ") || !strings.Contains(lines[0], wantErr) {
		t.Errorf("%q: stderr first line %q, want clustermesh-lab: ...%s...", args, lines[0], wantErr)
	}
	switch {
	case len(lines) > 2 || (len(lines) == 2 && !strings.HasPrefix(lines[1], "  What to do: ")):
		t.Errorf("%q: stderr is not one error line and one hint:\n%s", args, errs)
	case wantHint != "" && (len(lines) < 2 || !strings.Contains(lines[1], wantHint)):
		t.Errorf("%q: stderr lacks the hint %q:\n%s", args, wantHint, errs)
	}
	if strings.Contains(errs, "panic") || strings.Contains(errs, "goroutine ") {
		t.Errorf("%q: panic:\n%s", args, errs)
	}
}

// The kind backend where no engine answers: say so, suggest the simulated
// mesh, and create no lab directory.
func TestKindWithoutEngine(t *testing.T) {
	t.Setenv("KIND_EXPERIMENTAL_PROVIDER", "")
	t.Setenv("XDG_STATE_HOME", t.TempDir())
	fake := t.TempDir()
	// A docker CLI whose engine is down, as on this machine.
	script := "#!/bin/sh\necho 'Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?' >&2\nexit 1\n"
	if err := os.WriteFile(filepath.Join(fake, "docker"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	empty := t.TempDir()
	for _, tc := range []struct {
		name, path, wantErr string
	}{
		{"docker CLI without an engine", fake, "engine does not answer"},
		{"no engine installed", empty, "neither docker nor podman is installed"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("PATH", tc.path)
			for _, args := range [][]string{
				{"run", "--backend", "kind", "--lab-dir", filepath.Join(t.TempDir(), "lab")},
				{"--backend", "kind", "--lab-dir", filepath.Join(t.TempDir(), "lab")},
			} {
				code, out, errs := cli(t, args...)
				checkFailure(t, args, code, out, errs, 1, tc.wantErr, "--backend sim")
				if _, err := os.Stat(args[len(args)-1]); err == nil {
					t.Errorf("%q created the lab directory", args)
				}
			}
			// A flag for real clusters chooses them under auto: without an
			// engine that is an error naming the flag, not a silent
			// simulated mesh. One cluster brought still needs kind for the
			// other.
			for _, flag := range [][]string{{"--node-image", "kindest/node:v1.35.8"}, {"--cilium-version", "1.18.11"}, {"--us-kubeconfig", "us.yaml"}, {"--eu-context", "kind-mine"}} {
				lab := filepath.Join(t.TempDir(), "lab")
				args := append([]string{"run", "--lab-dir", lab}, flag...)
				code, out, errs := cli(t, args...)
				checkFailure(t, args, code, out, errs, 1, flag[0]+" needs real clusters, and the kind backend needs a container engine: ", "or drop "+flag[0]+" for the simulated mesh")
				if !strings.Contains(errs, tc.wantErr) {
					t.Errorf("%q: %s, want the engine's problem %q", args, errs, tc.wantErr)
				}
				if _, err := os.Stat(lab); err == nil {
					t.Errorf("%q created the lab directory", args)
				}
			}
			// auto falls back to the simulated mesh and says so (without
			// --sim-speed, which would choose it).
			lab := filepath.Join(t.TempDir(), "lab")
			out := mustCLI(t, "run", "--lab-dir", lab, "--to", "preflight")
			if !strings.Contains(out, "using the simulated mesh (--backend sim)") {
				t.Errorf("auto without an engine printed:\n%s", tail(out, 10))
			}
		})
	}
}

// simulate -o json prints exactly one object of the documented shape.
func TestSimulateJSON(t *testing.T) {
	cases := []struct {
		args           []string
		from           string
		us, eu, errors int // -1: any
	}{
		{[]string{"--us", "global=true,affinity=local,replicas=0", "--eu", "global=true", "--from", "us", "--requests", "1000"}, "us", 0, 1000, 0},
		{[]string{"--us", "global=true", "--eu", "global=true,shared=false", "--from", "us", "--requests", "300"}, "us", 300, 0, 0},
		{[]string{"--us", "replicas=0", "--from", "us", "--requests", "50"}, "us", 0, 0, 50},
		{[]string{"--us", "global=true", "--eu", "global=true,replicas=3", "--from", "us", "--requests", "4000", "--seed", "9"}, "us", -1, -1, 0},
	}
	for _, tc := range cases {
		args := append([]string{"simulate", "-o", "json"}, tc.args...)
		out := mustCLI(t, args...)
		if strings.Count(out, "\n") != 1 || !strings.HasSuffix(out, "}\n") {
			t.Errorf("%q printed %q, want one line holding one object", args, out)
		}
		dec := json.NewDecoder(strings.NewReader(out))
		var raw map[string]json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("%q: %v in %q", args, err, out)
		}
		if dec.More() {
			t.Errorf("%q printed more than one JSON value: %q", args, out)
		}
		if keys := sortedKeys(raw); strings.Join(keys, ",") != "answers,errors,from,requests" {
			t.Errorf("%q: keys %v, want answers, errors, from, requests", args, keys)
		}
		var answers map[string]int
		if err := json.Unmarshal(raw["answers"], &answers); err != nil || len(answers) != 2 {
			t.Errorf("%q: answers %s, want {\"us\":N,\"eu\":M}", args, raw["answers"])
		}
		var res struct {
			From     string `json:"from"`
			Requests int    `json:"requests"`
			Answers  struct {
				US int `json:"us"`
				EU int `json:"eu"`
			} `json:"answers"`
			Errors int `json:"errors"`
		}
		d := json.NewDecoder(strings.NewReader(out))
		d.DisallowUnknownFields()
		if err := d.Decode(&res); err != nil {
			t.Fatalf("%q: %v", args, err)
		}
		if res.From != tc.from || res.Answers.US+res.Answers.EU+res.Errors != res.Requests {
			t.Errorf("%q: %+v", args, res)
		}
		for _, c := range []struct{ got, want int }{{res.Answers.US, tc.us}, {res.Answers.EU, tc.eu}, {res.Errors, tc.errors}} {
			if c.want >= 0 && c.got != c.want {
				t.Errorf("%q: %+v, want us %d, eu %d, errors %d", args, res, tc.us, tc.eu, tc.errors)
				break
			}
		}
	}
	// The same seed answers the same; the text output explains the rule.
	a := mustCLI(t, "simulate", "-o", "json", "--us", "global=true", "--eu", "global=true", "--seed", "4")
	if b := mustCLI(t, "simulate", "-o", "json", "--us", "global=true", "--eu", "global=true", "--seed", "4"); a != b {
		t.Errorf("same seed, different answers: %s / %s", a, b)
	}
	text := mustCLI(t, "simulate", "--us", "global=true,affinity=local,replicas=0", "--eu", "global=true", "--requests", "100")
	for _, want := range []string{"What if: 100 requests from US", "failover to EU", "EU ", "100  100%"} {
		if !strings.Contains(text, want) {
			t.Errorf("simulate text output lacks %q:\n%s", want, text)
		}
	}
}

func sortedKeys(m map[string]json.RawMessage) []string {
	return slices.Sorted(maps.Keys(m))
}

func TestStepsCommand(t *testing.T) {
	out := mustCLI(t, "steps")
	lines := strings.Split(strings.TrimSuffix(out, "\n"), "\n")
	all := steps.All()
	if len(lines) != 12 || len(all) != 12 {
		t.Fatalf("steps printed %d lines for %d steps, want 12:\n%s", len(lines), len(all), out)
	}
	if f := strings.Fields(lines[5]); len(f) < 2 || f[0] != "6" || f[1] != "hubble" || !strings.Contains(lines[5], "Observe the mesh with Hubble") {
		t.Errorf("the hubble step is not listed sixth, after connect: %q", lines[5])
	}
	for i, l := range lines {
		f := strings.Fields(l)
		if len(f) < 3 || f[0] != strconv.Itoa(i+1) || f[1] != all[i].ID() || !strings.Contains(l, all[i].Title()) {
			t.Errorf("line %d = %q, want %d %s %s", i, l, i+1, all[i].ID(), all[i].Title())
		}
	}
}

// --fresh sets the old lab aside as <dir>.bak-<time>, keeps it whole, and
// starts a new one.
func TestFresh(t *testing.T) {
	lab := newLab(t, "connect")
	old := snapshot(t, lab)
	out := mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--fresh", "--to", "preflight")
	m := regexp.MustCompile(`Moved the previous lab to (\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("--fresh printed:\n%s", tail(out, 10))
	}
	backup := m[1]
	if !regexp.MustCompile(`^` + regexp.QuoteMeta(lab) + `\.bak-\d{8}-\d{6}$`).MatchString(backup) {
		t.Errorf("backup %q, want %s.bak-<time>", backup, lab)
	}
	got := snapshot(t, backup)
	for name, content := range old {
		if got[name] != content {
			t.Errorf("backup's %s differs from the old lab's", name)
		}
	}
	j, err := os.ReadFile(filepath.Join(lab, steps.JournalFile))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(j), `"preflight"`) || strings.Contains(string(j), `"connect"`) {
		t.Errorf("the new lab's journal is not a fresh one:\n%s", j)
	}
	// Resuming the new lab starts after preflight.
	out = mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--to", "create-clusters")
	if !strings.Contains(out, "Resuming at step 2 (create-clusters)") {
		t.Errorf("resume after --fresh printed:\n%s", tail(out, 10))
	}
}

// An empty directory becomes a lab (--fresh has nothing to move there); a
// link to a lab is followed, and --fresh moves the lab it points to and
// starts the new one there, the link kept.
func TestLabDirAdoption(t *testing.T) {
	base := t.TempDir()
	empty := filepath.Join(base, "empty")
	if err := os.Mkdir(empty, 0o755); err != nil {
		t.Fatal(err)
	}
	out := mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--fresh", "--lab-dir", empty, "--to", "preflight")
	if strings.Contains(out, "Moved the previous lab") || !strings.Contains(out, "kept in "+empty) {
		t.Errorf("--fresh on an empty directory:\n%s", tail(out, 5))
	}
	real := newLab(t, "connect")
	link := filepath.Join(base, "lab")
	if err := os.Symlink(real, link); err != nil {
		t.Fatal(err)
	}
	out = mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--fresh", "--lab-dir", link, "--to", "preflight")
	m := regexp.MustCompile(`Moved the previous lab to (\S+)`).FindStringSubmatch(out)
	if m == nil || !strings.HasPrefix(m[1], real+".bak-") {
		t.Fatalf("--fresh through a link:\n%s", tail(out, 10))
	}
	if !strings.Contains(out, "(1 of 12 steps done); it is kept in "+real+".") {
		t.Errorf("the new lab is not where the link points:\n%s", tail(out, 3))
	}
	if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Errorf("the link is gone: %v", err)
	}
	if _, err := os.Stat(filepath.Join(m[1], steps.JournalFile)); err != nil {
		t.Errorf("the backup lacks the old journal: %v", err)
	}
}

// The whole lab headless on the command line: every probe in the history,
// then a rerun that finds it complete, its clusters torn down (it never
// claims every step's check passes: their clusters are gone).
func TestRunHeadlessWholeLab(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "lab")
	out := mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--requests", "200")
	for _, want := range []string{
		"Step 1/12", "Step 12/12", "$ cd " + lab, "$ kind create cluster --name us --config kind-us-cluster.yaml \\", "    --image " + cluster.DefaultNodeImage,
		"for i in $(seq 1 200); do wget -qO- hello-world:80",
		"Probe from US (local only), 200 requests:", "Probe from EU (failover), 200 requests:",
		"Done: steps preflight to teardown. Probe history:",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("headless output lacks %q", want)
		}
	}
	history := out[strings.Index(out, "Probe history:"):]
	if n := strings.Count(history, "from "); n != 10 {
		t.Errorf("probe history has %d probes, want 10:\n%s", n, history)
	}
	for _, want := range []string{"local only      from US:       US 200 · EU 0", "failover        from US:       US 0 · EU 200", "back home       from US:       US 200 · EU 0"} {
		if !strings.Contains(history, want) {
			t.Errorf("probe history lacks %q:\n%s", want, history)
		}
	}
	out = mustCLI(t, "run", "--headless", "--backend", "sim", "--lab-dir", lab)
	if want := "The lab is complete: its clusters were torn down in the last step; the journal keeps every probe. It is kept in " + lab; !strings.Contains(out, want) || strings.Contains(out, "every step's check passes") {
		t.Errorf("rerun of a complete, torn-down lab printed:\n%s\nwant %q", tail(out, 5), want)
	}
	if out := mustCLI(t, "version"); !strings.HasPrefix(out, "clustermesh-lab ") || !strings.Contains(out, "kind node image "+cluster.DefaultNodeImage+" (Kubernetes v1.35.8, default)") {
		t.Errorf("version printed %q", out)
	}
}

// BenchmarkLabHeadless runs the whole lab through the command line on the
// simulated mesh at --sim-speed instant, state saved to disk after every
// change; the goal is under a second per lab.
func BenchmarkLabHeadless(b *testing.B) {
	base := b.TempDir()
	i := 0
	for b.Loop() {
		i++
		lab := filepath.Join(base, strconv.Itoa(i))
		code, _, errs := cli(b, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab)
		if code != 0 {
			b.Fatalf("exit %d: %s", code, errs)
		}
	}
}

// A lab that was only torn down is not complete: running it again starts
// from the first step.
func TestRunOnlyTornDownIsNotComplete(t *testing.T) {
	lab := filepath.Join(t.TempDir(), "lab")
	mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--from", "teardown")
	out := mustCLI(t, "run", "--headless", "--backend", "sim", "--sim-speed", "instant", "--lab-dir", lab, "--to", "preflight")
	if strings.Contains(out, "The lab is complete") || !strings.Contains(out, "Step 1/12") {
		t.Errorf("a lab that was only torn down, run again, printed:\n%s", tail(out, 8))
	}
}

// minimalKubeconfig is a learner's kubeconfig: one cluster, one user, one
// context ("mine"), nothing that needs a file.
var minimalKubeconfig = func() string {
	b, err := os.ReadFile(filepath.Join("cluster", "real", "testdata", "kubeconfig-minimal.yaml"))
	if err != nil {
		panic(err)
	}
	return string(b)
}()
