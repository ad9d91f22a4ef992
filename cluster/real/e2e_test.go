package real

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
	"github.com/clustermesh-lab/clustermesh-lab/steps/headless"
)

// e2eEnv switches the end-to-end test on: it creates two kind clusters of
// three nodes each, which takes a quarter of an hour and 8 GiB, so it only
// runs when asked for (`make e2e`).
const e2eEnv = "CLUSTERMESH_LAB_E2E"

// TestE2E runs the whole lab headless on real kind clusters, with nothing
// faked: kind, the Helm SDK against the clusters, client-go, exec into
// the pods. It runs where a container engine answers and e2eEnv=1.
func TestE2E(t *testing.T) {
	if os.Getenv(e2eEnv) != "1" {
		t.Skipf("end-to-end test not requested: set %s=1; it creates two kind clusters (make e2e runs the same lab through the CLI on images built here: hack/e2e)", e2eEnv)
	}
	dctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	eng, err := doctor.DetectEngine(dctx, doctor.SystemEnv())
	cancel()
	if err != nil {
		t.Skipf("no container engine answers, so kind cannot run here: %v (%s)", err, cluster.HintOf(err))
	}
	t.Logf("container engine: %s %s", eng.Name, eng.Version)

	ctx, cancel := context.WithTimeout(context.Background(), 55*time.Minute)
	defer cancel()
	dir, err := labdir.Open(t.TempDir(), "kind", 1)
	if err != nil {
		t.Fatal(err)
	}
	// Library chatter goes to a file, shown when the test fails: a test
	// logger could be written to by client-go after the test ended.
	diag, err := os.Create(filepath.Join(dir.Path(), "backend.log"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		diag.Close()
		if t.Failed() {
			b, _ := os.ReadFile(diag.Name())
			lines := strings.Split(string(b), "\n")
			t.Logf("last lines of backend.log:\n%s", strings.Join(lines[max(0, len(lines)-60):], "\n"))
		}
	})
	opts := Options{Dir: dir.Path(), DiagLog: diag}
	// Where no registry answers, hack/e2e's images and values:
	// CLUSTERMESH_LAB_E2E_NODE_IMAGE=clustermesh-lab-e2e/node:v1.35.8,
	// CLUSTERMESH_LAB_E2E_CILIUM_VALUES=<repo>/hack/e2e/cilium-values.yaml.
	opts.NodeImage = os.Getenv(e2eEnv + "_NODE_IMAGE")
	if f := os.Getenv(e2eEnv + "_CILIUM_VALUES"); f != "" {
		if opts.Values, err = ReadValuesFile(f); err != nil {
			t.Fatal(err)
		}
	}
	// The published chart beside the repository spares the download.
	if p := filepath.Join("..", "..", "..", "shared", "charts", "cilium-"+DefaultCiliumVersion+".tgz"); fileExists(p) {
		opts.ChartPath = p
	}
	b, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cluster.Names() {
		if st, err := b.Status(ctx, c); err == nil && st.Exists {
			t.Fatalf("cluster %s exists before the test", c)
		}
	}
	// Whatever happens, the clusters this test created go away.
	t.Cleanup(func() {
		cctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
		defer cancel()
		for _, c := range cluster.Names() {
			if err := b.DeleteCluster(cctx, c, &testLogWriter{t: t}); err != nil {
				t.Errorf("clean up cluster %s: %v", c, err)
			}
		}
	})
	sess, err := steps.OpenSession(dir, b, 20)
	if err != nil {
		t.Fatal(err)
	}
	defer sess.Close()
	out := &testLogWriter{t: t}
	sess.SetReporter(headless.New(out, len(sess.Runner.Steps)))
	last := len(sess.Runner.Steps) - 1
	if err := sess.Runner.RunRange(ctx, 0, last-1, true); err != nil {
		t.Fatalf("lab failed: %v (%s)", err, cluster.HintOf(err))
	}
	next, _, err := sess.Runner.Resume(ctx)
	if err != nil || next != last {
		t.Errorf("after the lab, resume points at step %d (%v), want the teardown", next, err)
	}
	for _, p := range sess.Journal.Probes() {
		t.Logf("%-15s from %s: %s", p.Phase, p.Result.From, steps.DescribeProbe(p.Result))
	}
	if err := sess.Runner.RunRange(ctx, last, last, false); err != nil {
		t.Fatalf("teardown: %v", err)
	}
}

func fileExists(p string) bool {
	_, err := os.Stat(p)
	return err == nil
}

// testLogWriter turns written lines, and Logf calls, into test log lines.
type testLogWriter struct {
	t   *testing.T
	mu  sync.Mutex
	buf bytes.Buffer
}

func (w *testLogWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			w.buf.WriteString(line)
			return len(p), nil
		}
		w.t.Log(strings.TrimRight(line, "\n"))
	}
}

func (w *testLogWriter) Logf(format string, args ...any) {
	w.t.Logf(format, args...)
}
