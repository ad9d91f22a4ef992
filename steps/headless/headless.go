// Package headless renders the lab as plain, readable text for pipes, CI
// logs and terminals without the interactive guide: each step with its
// explanation and commands, its progress lines, its result and each probe's
// distribution as counts and a text bar.
package headless

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Reporter writes the lab's progress to w. It implements steps.Reporter.
type Reporter struct {
	mu    sync.Mutex
	w     io.Writer
	total int
	// Quiet drops explanations and commands, keeping progress and results.
	Quiet bool
	// Width wraps explanations; 0 means 80.
	Width int
	// Vars fill in the shown commands: the lab directory, request count,
	// node image, Cilium version and values file.
	Vars steps.CommandVars
}

// New returns a reporter for a lab of total steps.
func New(w io.Writer, total int) *Reporter { return &Reporter{w: w, total: total} }

func (r *Reporter) printf(format string, args ...any) {
	fmt.Fprintf(r.w, format, args...)
}

// StepStarted prints the step's heading, explanation and commands.
func (r *Reporter) StepStarted(s steps.Step, index int) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.heading(s, index)
	if r.Quiet {
		return
	}
	for _, l := range Wrap(s.Explain(), r.width()-2) {
		r.printf("  %s\n", l)
	}
	r.printf("\n  Equivalent commands:\n")
	for _, c := range s.Commands(r.Vars) {
		r.printf("    # %s\n", c.Where)
		for i, l := range c.Lines {
			prompt := "$ "
			if i > 0 && strings.HasSuffix(c.Lines[i-1], "\\") {
				prompt = "  "
			}
			r.printf("    %s%s\n", prompt, l)
		}
	}
	r.printf("\n")
}

// Log prints one progress line.
func (r *Reporter) Log(l steps.LogLine) {
	r.mu.Lock()
	defer r.mu.Unlock()
	tag := "    "
	if l.Cluster != "" {
		tag = "[" + string(l.Cluster) + "]"
	}
	r.printf("  %s %s\n", tag, l.Text)
}

// ProbeProgress ignores running counts, which are for the interactive chart;
// StepDone prints the final distributions in a stable order.
func (r *Reporter) ProbeProgress(p steps.ProbeUpdate) {}

// StepDone prints the result, or the error with what to do next.
func (r *Reporter) StepDone(s steps.Step, index int, res steps.Result) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, p := range res.Probes {
		r.printf("\n  Probe from %s (%s), %d requests:\n", p.Result.From.Label(), p.Phase, p.Result.Requests)
		for _, row := range Bars(p.Result, 30) {
			r.printf("    %s\n", row)
		}
		if line := FlowLine(p.Result); line != "" {
			r.printf("    %s\n", line)
		}
	}
	if len(res.Probes) > 0 {
		r.printf("\n")
	}
	switch {
	case res.Err != nil && errors.Is(res.Err, context.Canceled):
		r.printf("  ✗ Interrupted after %s\n", res.Elapsed.Round(1e8))
	case res.Err != nil:
		// The command line prints the error and what to do once, on
		// stderr, as for any other failure.
		r.printf("  ✗ Failed after %s\n", res.Elapsed.Round(1e8))
	case res.Skipped:
		r.heading(s, index)
		r.printf("  ✓ Skipped: %s\n", res.Summary)
	default:
		r.printf("  ✓ Done in %s. %s\n", res.Elapsed.Round(1e8), res.Summary)
	}
	for _, w := range res.Warnings {
		r.printf("  ! %s\n", w)
	}
}

func (r *Reporter) heading(s steps.Step, index int) {
	head := fmt.Sprintf("━━ Step %d/%d · %s ", index+1, r.total, s.Title())
	r.printf("\n%s%s\n", head, strings.Repeat("━", max(3, r.width()-len([]rune(head)))))
}

func (r *Reporter) width() int {
	if r.Width > 0 {
		return r.Width
	}
	return 80
}

// Bars renders a probe as one text bar per bucket (US, EU, errors) with
// counts and percentages; width is the longest bar.
func Bars(res cluster.ProbeResult, width int) []string {
	rows := []struct {
		label string
		n     int
	}{{"US", res.Answers.US}, {"EU", res.Answers.EU}, {"errors", res.Errors}}
	out := make([]string, 0, len(rows))
	for _, row := range rows {
		if row.label == "errors" && row.n == 0 {
			continue
		}
		share := res.Share(row.n)
		bar := strings.Repeat("█", int(share*float64(width)+0.5))
		out = append(out, fmt.Sprintf("%-6s %-*s %5d %4.0f%%", row.label, width, bar, row.n, share*100))
	}
	return out
}

// FlowLine summarises a probe's flows as Hubble saw them: "Flows (Hubble):
// 6 local · 4 cross-cluster · 0 dropped"; "" for a probe without flows.
func FlowLine(res cluster.ProbeResult) string {
	if len(res.Flows) == 0 {
		return ""
	}
	line := "Flows (Hubble): " + cluster.SummarizeFlows(res.Flows).String()
	if res.FlowsOmitted > 0 {
		line += fmt.Sprintf(" (the newest %d of %d)", len(res.Flows), len(res.Flows)+res.FlowsOmitted)
	}
	return line
}

// FlowRows renders flows one a line, oldest first, as hubble observe does:
// time, source pod and cluster, destination pod and cluster, verdict
// (with the drop reason), and ⇄ on a flow that crossed the mesh.
func FlowRows(flows []cluster.Flow) []string {
	out := make([]string, 0, len(flows))
	for _, f := range flows {
		mark := " "
		if f.CrossCluster {
			mark = "⇄"
		}
		verdict := string(f.Verdict)
		if f.DropReason != "" {
			verdict += " (" + f.DropReason + ")"
		}
		out = append(out, fmt.Sprintf("%s %s %s (%s) -> %s (%s) %s", f.Time.Format("15:04:05.000"), mark,
			f.Source, f.Source.Cluster, f.To(), f.Destination.Cluster, verdict))
	}
	return out
}

// Wrap breaks text into lines of at most width runes at spaces.
func Wrap(text string, width int) []string {
	var lines []string
	var cur strings.Builder
	for _, w := range strings.Fields(text) {
		if cur.Len() > 0 && len([]rune(cur.String()))+1+len([]rune(w)) > width {
			lines = append(lines, cur.String())
			cur.Reset()
		}
		if cur.Len() > 0 {
			cur.WriteByte(' ')
		}
		cur.WriteString(w)
	}
	if cur.Len() > 0 {
		lines = append(lines, cur.String())
	}
	return lines
}
