package steps_test

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// A journal is a step map and a probe list; each case damages one thing.
const goodJournal = `{"version":1,
 "steps":{"deploy":{"started":"2026-01-02T03:04:05Z","finished":"2026-01-02T03:04:06Z","summary":"ok"}},
 "probes":[{"step":"deploy","phase":"local only","result":{"from":"us","requests":10,"answers":{"us":10,"eu":0},"errors":0},"time":"2026-01-02T03:04:06Z"},
           {"step":"playground","phase":"playground","result":{"from":"eu","requests":5,"answers":{"us":2,"eu":2},"errors":1},"time":"2026-01-02T03:04:07Z"}]}`

// Loaders validate what they read: a journal that claims the impossible is
// corrupt, with the reason, and never drawn.
func TestJournalValidates(t *testing.T) {
	if _, err := steps.NewJournal([]byte(goodJournal), nil); err != nil {
		t.Fatalf("the good journal: %v", err)
	}
	for _, tc := range []struct{ name, old, new, want string }{
		{"probe from mars", `"from":"eu"`, `"from":"mars"`, `probe 2 (playground): from unknown cluster "mars"`},
		{"probe from US in capitals", `"from":"us"`, `"from":"US"`, `from unknown cluster "US"`},
		{"negative answers", `"answers":{"us":10,"eu":0}`, `"answers":{"us":11,"eu":-1}`, "negative counts (US 11, EU -1, errors 0)"},
		{"answers and errors not the requests", `"errors":1`, `"errors":2`, "US 2 + EU 2 + errors 2 is not the 5 requests sent"},
		{"counts that overflow to the requests", `"answers":{"us":10,"eu":0}`, `"answers":{"us":9223372036854775807,"eu":-9223372036854775797}`, "negative counts"},
		{"big counts that overflow", `"answers":{"us":10,"eu":0},"errors":0`, `"answers":{"us":9223372036854775807,"eu":9223372036854775807},"errors":14`, "is not the 10 requests sent"},
		{"no requests", `"requests":10`, `"requests":0`, "0 requests is outside 1..10000"},
		{"too many requests", `"requests":5`, `"requests":10001`, "10001 requests is outside 1..10000"},
		{"unknown probe step", `"step":"deploy"`, `"step":"warp"`, `probe 1: unknown step "warp"`},
		{"unknown phase", `"phase":"local only"`, `"phase":"hyperspace"`, `unknown phase "hyperspace"`},
		{"unknown step record", `"steps":{"deploy"`, `"steps":{"warp"`, `unknown step "warp"`},
		{"playground is no step", `"steps":{"deploy"`, `"steps":{"playground"`, `unknown step "playground"`},
		{"finished before started", `"finished":"2026-01-02T03:04:06Z"`, `"finished":"2026-01-02T03:04:04Z"`, `step "deploy" finished (2026-01-02T03:04:04Z) before it started (2026-01-02T03:04:05Z)`},
		{"no start time", `"started":"2026-01-02T03:04:05Z",`, ``, `step "deploy" has no start time`},
		{"probe without time", `,"time":"2026-01-02T03:04:07Z"`, ``, "probe 2 (playground): no time"},
		{"unknown format", `"version":1`, `"version":2`, "unknown format 2"},
		{"not JSON", `{"version"`, `{version`, "invalid character"},
		{"trailing data", `"time":"2026-01-02T03:04:07Z"}]}`, `"time":"2026-01-02T03:04:07Z"}]} []`, "invalid character"},
	} {
		raw := strings.Replace(goodJournal, tc.old, tc.new, 1)
		if raw == goodJournal {
			t.Fatalf("%s: the case changes nothing", tc.name)
		}
		if _, err := steps.NewJournal([]byte(raw), nil); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
	// The hubble step is one of the lab's: a journal that ran it loads.
	hubble := strings.Replace(goodJournal, `"steps":{`, `"steps":{"hubble":{"started":"2026-01-02T03:04:01Z","finished":"2026-01-02T03:04:02Z"},`, 1)
	if hubble == goodJournal {
		t.Fatal("the hubble case changes nothing")
	}
	if _, err := steps.NewJournal([]byte(hubble), nil); err != nil {
		t.Errorf("a journal with the hubble step: %v", err)
	}
	// Times in the future are no damage: clocks move backwards, labs move
	// between machines.
	future := strings.ReplaceAll(goodJournal, "2026-", "2999-")
	if _, err := steps.NewJournal([]byte(future), nil); err != nil {
		t.Errorf("a journal from the future: %v", err)
	}
}

// FuzzJournal feeds the journal loader any bytes: it never panics, and a
// journal it accepts holds only probes the lab can draw and encodes to a
// journal that loads back the same. Corpus: testdata/fuzz/FuzzJournal
// (journals of real labs and findings).
func FuzzJournal(f *testing.F) {
	f.Add([]byte(goodJournal))
	f.Fuzz(func(t *testing.T, data []byte) {
		j, err := steps.NewJournal(data, nil)
		if err != nil {
			return
		}
		for _, p := range j.Probes() {
			r := p.Result
			if r.Answers.US < 0 || r.Answers.EU < 0 || r.Errors < 0 || r.Done() != r.Requests || r.Requests < 1 {
				t.Fatalf("accepted an impossible probe %+v", p)
			}
			_ = steps.DescribeProbe(r)
			_ = r.Share(r.Errors)
			_ = j.Probed(p.Step)
			if q := p.Quiz; q != nil && (q.Said != "" && !q.Said.Valid() || q.Why == "" || !p.Did().Valid()) {
				t.Fatalf("accepted an impossible question %+v on %+v", q, p)
			}
		}
		if right, asked := steps.Score(j.Probes()); right < 0 || right > asked {
			t.Fatalf("score %d of %d", right, asked)
		}
		once := encode(t, j)
		again, err := steps.NewJournal(once, nil)
		if err != nil {
			t.Fatalf("an accepted journal re-encoded does not load: %v\n%s", err, once)
		}
		if twice := encode(t, again); !bytes.Equal(once, twice) {
			t.Fatalf("the journal changes on a round trip:\n%s\n%s", once, twice)
		}
	})
}

// encode saves j through its save function, as the lab directory does.
func encode(t *testing.T, j *steps.Journal) []byte {
	t.Helper()
	var saved []byte
	j2, err := steps.NewJournal(nil, func(b []byte) error { saved = b; return nil })
	if err != nil {
		t.Fatal(err)
	}
	// Copy through the public API: steps, then probes.
	for _, s := range steps.All() {
		if r, ok := j.Step(s.ID()); ok {
			if err := j2.MarkStarted(s.ID(), r.Started); err != nil {
				t.Fatal(err)
			}
			if !r.Finished.IsZero() {
				if err := j2.MarkDone(s.ID(), r.Finished, r.Summary); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	for _, p := range j.Probes() {
		if err := j2.AddProbe(p); err != nil {
			t.Fatal(err)
		}
	}
	if saved == nil {
		saved, _ = json.Marshal(map[string]any{"version": 1})
	}
	return saved
}
