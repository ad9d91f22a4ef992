package main

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/clustermesh-lab/clustermesh-lab/cluster/doctor"
)

// TestDoctorJSON runs `doctor --json` on this machine: with or without an
// engine, stdout is exactly one JSON document with every check, and the
// exit status agrees with its "ready".
func TestDoctorJSON(t *testing.T) {
	code, out, errs := cli(t, "doctor", "--json")
	var r doctor.Report
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		t.Fatalf("doctor --json printed no report: %v\n%s", err, out)
	}
	if dec.More() {
		t.Errorf("doctor --json printed more than one document:\n%s", out)
	}
	var ids []string
	for _, c := range r.Checks {
		ids = append(ids, c.ID)
	}
	if !slices.Equal(ids, doctor.IDs()) {
		t.Errorf("ids %q, want %q", ids, doctor.IDs())
	}
	if want := map[bool]int{true: 0, false: 1}[r.Ready]; code != want {
		t.Errorf("exit %d with ready=%v, want %d (stderr %q)", code, r.Ready, want, errs)
	}
}

// TestDoctorSummary: one line per check, each a glyph and the check's summary.
func TestDoctorSummary(t *testing.T) {
	_, out, _ := cli(t, "doctor", "--summary")
	lines := strings.Split(strings.TrimRight(out, "\n"), "\n")
	if len(lines) != len(doctor.IDs()) {
		t.Fatalf("%d lines, want %d:\n%s", len(lines), len(doctor.IDs()), out)
	}
	for _, l := range lines {
		glyph, summary, _ := strings.Cut(l, " ")
		if !slices.Contains([]string{"✓", "!", "✗"}, glyph) || !strings.Contains(summary, ": ") {
			t.Errorf("line %q: want a glyph and a summary", l)
		}
	}
	code, _, errs := cli(t, "doctor", "--json", "--summary")
	if code != 2 || !strings.Contains(errs, "cannot go together") {
		t.Errorf("--json --summary: exit %d, %q; want a usage error", code, errs)
	}
}
