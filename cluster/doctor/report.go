package doctor

import (
	"errors"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// The checks' IDs, in the order Run returns them. They are the keys an
// instructor's script reads from `doctor --json`, so they never change with
// the wording of a check.
const (
	IDEngine       = "engine"
	IDKernel       = "kernel"
	IDCgroups      = "cgroups"
	IDMemory       = "memory"
	IDInotify      = "inotify"
	IDNetwork      = "kind-network"
	IDPorts        = "host-ports"
	IDKindClusters = "kind-clusters"
	IDKubernetes   = "kubernetes-version"
	IDImages       = "image-pulls"
)

// IDs lists the checks' IDs in the order Run returns them.
func IDs() []string {
	return []string{IDEngine, IDKernel, IDCgroups, IDMemory, IDInotify, IDNetwork, IDPorts, IDKindClusters, IDKubernetes, IDImages}
}

// engineProblem says in a few words why no engine is usable.
func engineProblem(eng Engine, err error) string {
	name := eng.Name
	if name == "" {
		name = "docker or podman"
	}
	switch {
	case errors.Is(err, ErrNotInstalled):
		return name + " not installed"
	case errors.Is(err, ErrUnsupported):
		return name + " not supported"
	}
	return name + " not answering"
}

// ReportVersion is the version of Report's shape; it changes only when a
// field changes meaning or goes away.
const ReportVersion = 1

// Report is `doctor --json`: one document an instructor's script can read
// from every laptop of a room and tally.
type Report struct {
	// Version is ReportVersion.
	Version int `json:"version"`
	// Ready is false when any check failed: the real lab cannot run.
	Ready bool `json:"ready"`
	// Counts are how many checks passed, warned and failed.
	Counts ReportCounts `json:"counts"`
	// Checks are the checks in the order they ran.
	Checks []ReportCheck `json:"checks"`
}

// ReportCounts tallies the checks by status.
type ReportCounts struct {
	OK   int `json:"ok"`
	Warn int `json:"warn"`
	Fail int `json:"fail"`
}

// ReportCheck is one check in a Report.
type ReportCheck struct {
	// ID is the check's stable key (IDs).
	ID string `json:"id"`
	// Name is the check's name as the human output shows it.
	Name string `json:"name"`
	// Status is "ok", "warn" or "fail".
	Status string `json:"status"`
	// Summary is one short line, for a slide.
	Summary string `json:"summary"`
	// Detail is what the check found.
	Detail string `json:"detail"`
	// Hint is what to do about it; empty when the check passed.
	Hint string `json:"hint,omitempty"`
}

// NewReport turns checks into a Report. A check without an ID or summary
// (one a caller added) gets one made from its name and detail.
func NewReport(checks []cluster.Check) Report {
	r := Report{Version: ReportVersion, Checks: make([]ReportCheck, 0, len(checks))}
	for _, c := range checks {
		switch c.Status {
		case cluster.Fail:
			r.Counts.Fail++
		case cluster.Warn:
			r.Counts.Warn++
		default:
			r.Counts.OK++
		}
		rc := ReportCheck{ID: c.ID, Name: c.Name, Status: c.Status.String(), Summary: c.Summary, Detail: c.Detail}
		if c.Status != cluster.Pass {
			rc.Hint = c.Fix
		}
		if rc.ID == "" {
			rc.ID = slug(c.Name)
		}
		if rc.Summary == "" {
			rc.Summary = c.Name + ": " + c.Status.String()
		}
		r.Checks = append(r.Checks, rc)
	}
	r.Ready = r.Counts.Fail == 0
	return r
}

// slug makes an ID of a name: lower case, words joined by dashes.
func slug(name string) string {
	var b []byte
	dash := false
	for _, r := range name {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b, dash = append(b, byte(r)), false
		case r >= 'A' && r <= 'Z':
			b, dash = append(b, byte(r-'A'+'a')), false
		case len(b) > 0 && !dash:
			b, dash = append(b, '-'), true
		}
	}
	if dash {
		b = b[:len(b)-1]
	}
	return string(b)
}

// Glyph marks a status on a slide line: ✓ ok, ! warn, ✗ fail.
func Glyph(s cluster.CheckStatus) string {
	switch s {
	case cluster.Warn:
		return "!"
	case cluster.Fail:
		return "✗"
	}
	return "✓"
}
