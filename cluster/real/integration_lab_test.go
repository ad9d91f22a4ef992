//go:build integration

package real

// The headless lab on the real backend against the suite's two clusters:
// through the steps' runner, and through the clustermesh-lab binary.

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"sync"
	"testing"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/tools/clientcmd"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labfiles"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
	"github.com/clustermesh-lab/clustermesh-lab/steps/stepstest"
)

// stepResults records how each step ended, for the test to judge.
type stepResults struct {
	mu  sync.Mutex
	res map[string]steps.Result
}

// StepStarted is not recorded.
func (r *stepResults) StepStarted(steps.Step, int) {}

// Log is not recorded.
func (r *stepResults) Log(steps.LogLine) {}

// ProbeProgress is not recorded.
func (r *stepResults) ProbeProgress(steps.ProbeUpdate) {}

// StepDone records the step's result.
func (r *stepResults) StepDone(s steps.Step, _ int, res steps.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.res == nil {
		r.res = map[string]steps.Result{}
	}
	r.res[s.ID()] = res
}

// get returns the recorded result of step id.
func (r *stepResults) get(id string) (steps.Result, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	res, ok := r.res[id]
	return res, ok
}

// labSession opens a session on the lab directory with the real backend
// on the suite's clusters, as `clustermesh-lab run --backend kind
// --us-kubeconfig ... --eu-kubeconfig ...` does, exec excepted.
func labSession(t *testing.T, cs *clusters, path string, out *bytes.Buffer) (*steps.Session, *stepResults) {
	t.Helper()
	dir, err := labdir.Open(path, "kind", 1)
	if err != nil {
		t.Fatal(err)
	}
	ib := newIntegrationBackend(t, cs, dir.Path(), labChart)
	if err := ib.WriteLabFiles(context.Background()); err != nil {
		t.Fatal(err)
	}
	sess, err := steps.OpenSession(dir, ib.Backend, 10)
	if err != nil {
		t.Fatal(err)
	}
	rec := &stepResults{}
	rep := headless.New(out, len(sess.Runner.Steps))
	rep.Vars = sess.Env.CommandVars()
	sess.SetReporter(steps.Tee(rep, rec))
	return sess, rec
}

// labChart is the chart the headless lab runs on: the published 1.20.0,
// whose clustermesh.config.clusters is a map (TestIntegrationBackend runs
// 1.19.5's list, TestIntegrationInterrupted 1.18.11).
const labChart = "1.20.0"

// stepIndex is the position of step id in the lab.
func stepIndex(t *testing.T, list []steps.Step, id string) int {
	t.Helper()
	i, err := steps.Index(list, id)
	if err != nil {
		t.Fatal(err)
	}
	return i
}

// TestIntegrationHeadlessLab runs the lab's steps, headless, from the
// start to "scale-down" on the real backend against the two clusters:
// cluster creation is the bring-your-own path (the backend checks the
// clusters it is handed), the certificate Job's Secrets come from the test
// and exec from recorded outputs; everything else is the lab's own code
// against real API servers and controllers. Then it resumes: every step's
// check passes on the live state, in this process and in a new one.
func TestIntegrationHeadlessLab(t *testing.T) {
	t.Parallel()
	cs := startClusters(t)
	runCertgen(t, cs)
	// No wall-clock budget of its own: on a loaded machine the lab takes
	// what it takes, and go test's -timeout stops a hang.
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "lab")
	var out bytes.Buffer
	sess, rec := labSession(t, cs, path, &out)
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("headless output:\n%s", out.String())
		}
	})
	list := sess.Runner.Steps
	install, scaleDown := stepIndex(t, list, "install-cilium"), stepIndex(t, list, "scale-down")
	// Step by step, replaying each step's commands after it: every file and
	// context they name is in the lab directory.
	terms := &stepstest.Terminals{Home: t.TempDir()}
	for i := range scaleDown + 1 {
		if res := sess.Runner.RunStep(ctx, i); res.Err != nil {
			t.Fatalf("lab failed: %v (hint: %s)", res.Err, cluster.HintOf(res.Err))
		}
		stepstest.CheckStep(t, terms, list[i], sess.Env.CommandVars())
	}
	for _, s := range list[:scaleDown+1] {
		if res, ok := rec.get(s.ID()); !ok || res.Err != nil || res.Skipped || len(res.Warnings) > 0 {
			t.Errorf("step %s: ran %v, result %+v", s.ID(), ok, res)
		}
	}

	// Creating the clusters wrote the lab's kubeconfigs from the learner's:
	// one context kind-<c> each, pointing at that cluster, with the
	// credentials inlined (EU's were files beside the learner's kubeconfig),
	// usable as the steps' commands use them.
	for _, c := range cluster.Names() {
		file := filepath.Join(path, labfiles.KubeconfigFile(c))
		kc, err := clientcmd.LoadFromFile(file)
		if err != nil {
			t.Fatal(err)
		}
		ctx, ok := kc.Contexts[c.Context()]
		if !ok || kc.CurrentContext != c.Context() || kc.Clusters[ctx.Cluster] == nil || kc.Clusters[ctx.Cluster].Server != cs.cp[c].cfg.Host {
			t.Errorf("%s: lab kubeconfig %+v does not point context %s at %s", c, kc, c.Context(), cs.cp[c].cfg.Host)
			continue
		}
		if len(kc.Clusters[ctx.Cluster].CertificateAuthorityData) == 0 || len(kc.AuthInfos[ctx.AuthInfo].ClientKeyData) == 0 {
			t.Errorf("%s: lab kubeconfig does not inline the credentials: %+v", c, kc.AuthInfos[ctx.AuthInfo])
		}
		cfg, err := clientcmd.BuildConfigFromFlags("", file)
		if err != nil {
			t.Fatal(err)
		}
		client, err := kubernetes.NewForConfig(cfg)
		if err != nil {
			t.Fatal(err)
		}
		if v, err := client.Discovery().ServerVersion(); err != nil {
			t.Errorf("%s: the lab kubeconfig does not reach the cluster: %v", c, err)
		} else if v.GitVersion != "v1.37.2" {
			t.Errorf("%s: server version %s", c, v.GitVersion)
		}
	}
	merged, err := clientcmd.LoadFromFile(filepath.Join(path, labfiles.MergedKubeconfig))
	if err != nil || len(merged.Contexts) != 2 {
		t.Errorf("merged kubeconfig: %v, %v", merged, err)
	}
	// The 1.20 chart took each peer as a map entry keyed by its name.
	for _, c := range cluster.Names() {
		rel := releaseIn(t, cs.kube(c))
		clusters, _ := lookup(rel.Config, "clustermesh.config.clusters")
		m, ok := clusters.(map[string]any)
		if _, peer := m[string(c.Peer())]; !ok || !peer || rel.Chart.Metadata.Version != labChart {
			t.Errorf("%s: chart %s, clustermesh.config.clusters = %#v, want a map holding %s", c, rel.Chart.Metadata.Version, clusters, c.Peer())
		}
	}

	// The probes: local, then mixed once global, US home with affinity
	// local while EU mixes, then US failed over to EU.
	type want struct{ us, eu string }
	wants := map[string]want{
		steps.PhaseLocal:    {"US 10 · EU 0", "US 0 · EU 10"},
		steps.PhaseGlobal:   {"mixed", "mixed"},
		steps.PhaseAffinity: {"US 10 · EU 0", "mixed"},
		steps.PhaseFailover: {"US 0 · EU 10", "US 0 · EU 10"},
	}
	probes := sess.Journal.Probes()
	if len(probes) != 2*len(wants) {
		t.Fatalf("%d probes, want %d", len(probes), 2*len(wants))
	}
	for _, p := range probes {
		w, ok := wants[p.Phase]
		if !ok {
			t.Errorf("unexpected probe phase %q", p.Phase)
			continue
		}
		expect := w.us
		if p.Result.From == cluster.EU {
			expect = w.eu
		}
		got := steps.DescribeProbe(p.Result)
		mixed := p.Result.Answers.US > 0 && p.Result.Answers.EU > 0 && p.Result.Errors == 0 && p.Result.Answers.Total() == 10
		if (expect == "mixed" && !mixed) || (expect != "mixed" && got != expect) {
			t.Errorf("%s probe from %s: %s, want %s", p.Phase, p.Result.From, got, expect)
		}
	}

	// Resume: after scale-down the lab goes on with scale-back, and every
	// step up to scale-down reports done on the live state.
	next, done, err := sess.Runner.Resume(ctx)
	if err != nil || next != scaleDown+1 {
		t.Errorf("resume points at step %d (%v), want %d", next, err, scaleDown+1)
	}
	env := sess.Env
	for i, s := range list[install : scaleDown+1] {
		if ok, err := s.Check(ctx, env); err != nil || !ok || !done[install+i] {
			t.Errorf("step %s: Check = %v, %v after the lab", s.ID(), ok, err)
		}
	}
	revs := revisions(t, cs)
	if err := sess.Close(); err != nil {
		t.Fatal(err)
	}

	// A new process on the same lab directory skips every step done.
	out.Reset()
	sess, rec = labSession(t, cs, path, &out)
	defer sess.Close()
	if err := sess.Runner.RunRange(ctx, 0, scaleDown, true); err != nil {
		t.Fatalf("resumed lab failed: %v", err)
	}
	for _, s := range list[:scaleDown+1] {
		if res, ok := rec.get(s.ID()); !ok || !res.Skipped {
			t.Errorf("resumed lab: step %s was not skipped: %+v", s.ID(), res)
		}
	}
	if now := revisions(t, cs); now != revs || len(sess.Journal.Probes()) != len(probes) {
		t.Errorf("resuming changed the clusters (revisions %v -> %v) or probed again (%d probes)", revs, now, len(sess.Journal.Probes()))
	}

	// Teardown lets go of the learner's clusters without deleting them,
	// and the lab is then complete.
	teardown := len(list) - 1
	if err := sess.Runner.RunRange(ctx, teardown, teardown, false); err != nil {
		t.Fatalf("teardown: %v", err)
	}
	if !strings.Contains(out.String(), "Not deleting us: it is your cluster") {
		t.Errorf("teardown did not say it keeps the learner's clusters:\n%s", out.String())
	}
	if now := revisions(t, cs); now != revs {
		t.Errorf("teardown changed the releases: %v -> %v", revs, now)
	}
	if next, _, err := sess.Runner.Resume(ctx); err != nil || next != len(list) {
		t.Errorf("after teardown, resume points at step %d (%v), want the lab complete (%d)", next, err, len(list))
	}
}

// buildCLI builds the clustermesh-lab binary into dir, with the race
// detector when this test binary has it, so that the packages compiled
// for the tests are reused.
func buildCLI(t *testing.T, dir string) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	bin := filepath.Join(dir, "clustermesh-lab")
	args := []string{"build", "-o", bin}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			if s.Key == "-race" && s.Value == "true" {
				args = append(args, "-race")
			}
		}
	}
	cmd := exec.Command("go", append(args, ".")...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// TestIntegrationCLI runs the clustermesh-lab binary, headless, on the two
// clusters the way a learner brings their own: --backend kind with
// --us-kubeconfig/--us-context and --eu-kubeconfig/--eu-context. Without
// kubelets nothing can be exec'd into, so it runs the steps that need no
// exec (preflight to enable-clustermesh), resumes them, then shows
// where the lab stops: the deploy step applies and rolls out the demo,
// and its probe fails on the exec, with the reason and what to do.
// (connect needs exec too: it waits until the agents report the peer.)
func TestIntegrationCLI(t *testing.T) {
	t.Parallel()
	cs := startClusters(t)
	runCertgen(t, cs)
	tmp := t.TempDir()
	bin := buildCLI(t, tmp)
	labDir := filepath.Join(tmp, "lab")
	// A workshop's values file: laid over the lab's at install and enable.
	values := filepath.Join(tmp, "workshop values.yaml")
	if err := os.WriteFile(values, []byte("debug:\n  enabled: true\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// kubeconfig is the learner's file: given by --us-kubeconfig and
	// --eu-kubeconfig, or by $KUBECONFIG when only the contexts are given.
	runWith := func(kubeconfig string, flags bool, args ...string) (string, error) {
		t.Helper()
		ctx := t.Context() // go test's -timeout stops a hang
		base := []string{"run", "--headless", "--backend", "kind", "--lab-dir", labDir,
			"--cilium-chart", chartPath(t, DefaultCiliumVersion), "--cilium-values", values,
			"--us-context", kubeContext(cluster.US), "--eu-context", kubeContext(cluster.EU)}
		env := "KUBECONFIG=" + kubeconfig
		if flags {
			base = append(base, "--us-kubeconfig", kubeconfig, "--eu-kubeconfig", kubeconfig)
			env = "KUBECONFIG=" + filepath.Join(tmp, "absent")
		}
		cmd := exec.CommandContext(ctx, bin, append(base, args...)...)
		// No container engine, and no kubeconfig but the one named.
		cmd.Env = append(os.Environ(), env, "DOCKER_HOST=unix://"+filepath.Join(tmp, "absent.sock"), "XDG_CACHE_HOME="+tmp)
		out, err := cmd.CombinedOutput()
		return string(out), err
	}
	run := func(args ...string) (string, error) { return runWith(cs.kubeconfig, true, args...) }

	out, err := run("--to", "enable-clustermesh")
	if err != nil {
		t.Fatalf("clustermesh-lab run: %v\n%s", err, out)
	}
	for _, want := range []string{"Step 2/12 · Create the US and EU clusters", "[us] Cluster us answers: Kubernetes v1.37.2, 3 node(s); the lab will not delete it",
		"Step 3/12 · Install Cilium in both clusters", "clustermesh-apiserver is ready in eu: Deployment rolled out, certificates issued, Service type NodePort, NodePort 32379", "Done: steps preflight to enable-clustermesh"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	if r := revisions(t, cs); r != [2]int{2, 2} {
		t.Errorf("revisions %v after install and enable, want [2 2]", r)
	}
	for _, c := range cluster.Names() {
		if d, _ := lookup(releaseIn(t, cs.kube(c)).Config, "debug.enabled"); d != true {
			t.Errorf("%s: the values file's debug.enabled is not in the release", c)
		}
	}
	for _, want := range []string{"--values '" + values + "'", "verified: its SHA256 is the published cilium-" + DefaultCiliumVersion + ".tgz's", "$ cd " + labDir} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}

	// Again without --from, the clusters named by $KUBECONFIG and the
	// contexts alone: the steps' checks pass, nothing runs.
	out, err = runWith(cs.kubeconfig, false, "--to", "enable-clustermesh")
	if err != nil {
		t.Fatalf("clustermesh-lab run (resume): %v\n%s", err, out)
	}
	if n := strings.Count(out, "✓ Skipped"); n != 4 || strings.Contains(out, "✓ Done in") {
		t.Errorf("resume: %d steps skipped, want the first 4 and none run:\n%s", n, out)
	}

	out, err = run("--from", "deploy", "--to", "deploy")
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.ExitCode() != 1 {
		t.Fatalf("deploy: %v, want exit status 1 at the probe\n%s", err, out)
	}
	for _, want := range []string{`deployment "hello-world" successfully rolled out in us`, `deployment "busybox-deployment" successfully rolled out in eu`,
		"✗ Failed", "exec in pod busybox-deployment-", ":10250/exec/default/busybox-deployment-", "What to do: retry"} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
	// The API server's error quotes the exec URL; the probe's script in
	// its query would bury the reason.
	if strings.Contains(out, "command=") {
		t.Errorf("the exec error quotes the whole command:\n%s", out)
	}
	if t.Failed() || testing.Verbose() {
		t.Log(out)
	}
	if _, err := os.Stat(filepath.Join(labDir, "backend.log")); err != nil {
		t.Errorf("no backend.log in the lab directory: %v", err)
	}
}
