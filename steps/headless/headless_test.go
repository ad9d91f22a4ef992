package headless

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

func TestBars(t *testing.T) {
	rows := Bars(cluster.ProbeResult{Requests: 10, Answers: cluster.Answers{US: 7, EU: 3}}, 10)
	if len(rows) != 2 {
		t.Fatalf("rows %q: errors are shown only when there are some", rows)
	}
	want := [][]string{{"US", "███████", "7", "70%"}, {"EU", "███", "3", "30%"}}
	for i, row := range rows {
		if got := strings.Fields(row); strings.Join(got, " ") != strings.Join(want[i], " ") {
			t.Errorf("row %d = %q, want fields %q", i, row, want[i])
		}
	}
	if len([]rune(rows[0])) != len([]rune(rows[1])) {
		t.Errorf("rows are not aligned: %q", rows)
	}
	rows = Bars(cluster.ProbeResult{Requests: 4, Errors: 4}, 8)
	if len(rows) != 3 || strings.Join(strings.Fields(rows[2]), " ") != "errors ████████ 4 100%" {
		t.Errorf("errors row: %q", rows)
	}
}

func TestWrap(t *testing.T) {
	lines := Wrap("one two three four five", 9)
	if strings.Join(lines, "|") != "one two|three|four five" {
		t.Errorf("Wrap = %q", lines)
	}
	if Wrap("", 10) != nil {
		t.Error("empty text wraps to nothing")
	}
}

// fakeStep is a step for the reporter's output.
type fakeStep struct{}

func (fakeStep) ID() string         { return "demo" }
func (fakeStep) Title() string      { return "A demo step" }
func (fakeStep) ShortTitle() string { return "Demo" }
func (fakeStep) Phase() string      { return "" }
func (fakeStep) Explain() string    { return "Why it matters." }
func (fakeStep) Commands(steps.CommandVars) []steps.Command {
	return []steps.Command{{Where: "US", Lines: []string{"kubectl apply \\", "  -f x.yaml"}}}
}
func (fakeStep) Run(context.Context, *steps.Env) (steps.Outcome, error) { return steps.Outcome{}, nil }
func (fakeStep) Check(context.Context, *steps.Env) (bool, error)        { return false, nil }

func TestReporter(t *testing.T) {
	var out bytes.Buffer
	r := New(&out, 3)
	r.StepStarted(fakeStep{}, 1)
	r.Log(steps.LogLine{Cluster: cluster.EU, Text: "working"})
	r.StepDone(fakeStep{}, 1, steps.Result{Outcome: steps.Outcome{Summary: "It worked.", Warnings: []string{"careful"},
		Probes: []steps.ProbeRecord{{Phase: "global", Result: cluster.ProbeResult{From: cluster.US, Requests: 2, Answers: cluster.Answers{US: 1, EU: 1}}}}}})
	r.StepDone(fakeStep{}, 2, steps.Result{Err: cluster.WithHint(errors.New("broke"), "retry it")})
	r.StepDone(fakeStep{}, 0, steps.Result{Skipped: true, Outcome: steps.Outcome{Summary: "already done"}})
	got := out.String()
	// The error and its hint are the command line's to print, once.
	for _, never := range []string{"broke", "retry it"} {
		if strings.Contains(got, never) {
			t.Errorf("the reporter printed the error (%q), which the command line prints:\n%s", never, got)
		}
	}
	for _, want := range []string{
		"━━ Step 2/3 · A demo step", "Why it matters.", "# US", "$ kubectl apply \\", "      -f x.yaml",
		"[eu] working", "Probe from US (global), 2 requests:", "✓ Done in", "It worked.", "! careful",
		"✗ Failed after", "━━ Step 1/3", "✓ Skipped: already done",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output misses %q:\n%s", want, got)
		}
	}
}

// Each probe's flows are summarised under its bars (local, cross-cluster,
// dropped, counted from the flows), and a probe without flows (no Hubble)
// prints no flow line.
func TestReporterFlowSummary(t *testing.T) {
	at := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	src := cluster.Endpoint{Cluster: cluster.US, Namespace: "default", Pod: "busybox-1"}
	flow := func(dst cluster.Name, verdict cluster.Verdict) cluster.Flow {
		f := cluster.Flow{Time: at, Source: src, Destination: cluster.Endpoint{Cluster: dst, Namespace: "default", Pod: "hello-world-" + string(dst)}, Service: "default/hello-world", Verdict: verdict, CrossCluster: dst != cluster.US}
		if verdict == cluster.VerdictDropped {
			f.Destination.Pod, f.DropReason, f.CrossCluster = "", cluster.DropNoBackend, false
		}
		return f
	}
	res := cluster.ProbeResult{From: cluster.US, Requests: 4, Answers: cluster.Answers{US: 2, EU: 1}, Errors: 1,
		Flows: []cluster.Flow{flow(cluster.US, cluster.VerdictForwarded), flow(cluster.EU, cluster.VerdictForwarded), flow(cluster.US, cluster.VerdictForwarded), flow(cluster.US, cluster.VerdictDropped)}}
	var out bytes.Buffer
	r := New(&out, 3)
	r.StepDone(fakeStep{}, 1, steps.Result{Outcome: steps.Outcome{Probes: []steps.ProbeRecord{
		{Phase: "global", Result: res},
		{Phase: "global", Result: cluster.ProbeResult{From: cluster.EU, Requests: 1, Answers: cluster.Answers{EU: 1}}},
	}}})
	if got := out.String(); strings.Count(got, "Flows (Hubble):") != 1 || !strings.Contains(got, "Flows (Hubble): 2 local · 1 cross-cluster · 1 dropped") {
		t.Errorf("output:\n%s", got)
	}
	rows := FlowRows(res.Flows)
	if len(rows) != 4 || !strings.Contains(rows[1], "12:00:00.000 ⇄ default/busybox-1 (us) -> default/hello-world-eu (eu) FORWARDED") ||
		!strings.HasSuffix(rows[3], "-> default/hello-world (us) DROPPED (SERVICE_BACKEND_NOT_FOUND)") {
		t.Errorf("rows:\n%s", strings.Join(rows, "\n"))
	}
}
