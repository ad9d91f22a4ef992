package steps_test

import (
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// A re-probe after the playground changed the clusters is a new round,
// labelled with what the clusters were; the step's own round stays, and
// the step still counts as probed only by its own run.
func TestReprobeIsANewLabelledRound(t *testing.T) {
	l := newLab(t, 1, 10)
	ctx := context.Background()
	global := l.index(t, "global")
	for i := 0; i <= global; i++ {
		l.run(t, i)
	}
	before := l.env.Journal.Probes()
	if err := steps.Configure(ctx, l.env, cluster.US, cluster.ServiceChange{Affinity: cluster.AffinityPtr(cluster.AffinityLocal)}); err != nil {
		t.Fatal(err)
	}
	if err := steps.Scale(ctx, l.env, cluster.US, 0); err != nil {
		t.Fatal(err)
	}
	recs, err := steps.Reprobe(ctx, l.env, "global")
	if err != nil {
		t.Fatal(err)
	}
	after := l.env.Journal.Probes()
	if len(after) != len(before)+2 {
		t.Fatalf("%d probes after the re-probe, want %d", len(after), len(before)+2)
	}
	for i := range before {
		if !reflect.DeepEqual(after[i], before[i]) {
			t.Errorf("round %d changed: %+v, was %+v", i, after[i], before[i])
		}
	}
	want := "US global, affinity local, 0 replicas · EU global, 1 replica"
	for _, r := range recs {
		if r.Phase != steps.PhaseReprobe || r.Step != "global" || r.Label != want {
			t.Errorf("re-probe recorded as %+v, want phase %q, label %q", r, steps.PhaseReprobe, want)
		}
		if r.Result.From == cluster.US && r.Result.Answers.EU != r.Result.Requests {
			t.Errorf("from US with affinity local and no local pod: %s, want all from EU", r.Result)
		}
	}
	if got := recs[0].Title(); got != "re-probe · "+want {
		t.Errorf("Title() = %q", got)
	}
	// Only the step's own run counts for its check.
	j, _ := steps.NewJournal(nil, nil)
	for _, r := range recs {
		if err := j.AddProbe(r); err != nil {
			t.Fatal(err)
		}
	}
	if j.Probed("global") {
		t.Error("a re-probe alone counts as the global step's probe")
	}
}

func TestPlaygroundBounds(t *testing.T) {
	l := newLab(t, 1, 10)
	err := steps.Scale(context.Background(), l.env, cluster.US, steps.MaxPlaygroundReplicas+1)
	if err == nil || cluster.HintOf(err) == "" || !strings.Contains(err.Error(), "0..5") {
		t.Errorf("scaling past the playground's bound: %v (hint %q)", err, cluster.HintOf(err))
	}
}

// Journals written before labels existed load, and their rounds are
// titled by phase.
func TestJournalWithoutLabels(t *testing.T) {
	old := `{"version":1,"steps":{},"probes":[{"step":"global","phase":"global","result":{"from":"us","requests":10,"answers":{"us":4,"eu":6}},"time":"2024-05-17T10:00:00Z"}]}`
	j, err := steps.NewJournal([]byte(old), nil)
	if err != nil {
		t.Fatal(err)
	}
	p := j.Probes()
	if len(p) != 1 || p[0].Label != "" || p[0].Title() != "global" {
		t.Fatalf("old journal: %+v", p)
	}
	b, _ := json.Marshal(p[0])
	if strings.Contains(string(b), "label") {
		t.Errorf("an unlabelled round writes a label: %s", b)
	}
}
