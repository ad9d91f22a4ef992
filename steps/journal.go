package steps

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// JournalFile names the journal in the lab directory.
const JournalFile = "journal.json"

// ProbeRecord is one finished probe, kept for the history strip. Records
// are only ever appended: probing again adds a round, it never replaces one.
type ProbeRecord struct {
	// Step is the step that probed, or PlaygroundID.
	Step  string `json:"step"`
	Phase string `json:"phase"`
	// Label says what the clusters were when a probe was taken outside a
	// step's own run (a re-probe, the playground); journals written before
	// labels existed have none.
	Label  string              `json:"label,omitempty"`
	Result cluster.ProbeResult `json:"result"`
	Time   time.Time           `json:"time"`
	// Quiz is the question asked before the probe (predict, then
	// observe), on the probe from QuizFrom of a round the guide asked
	// about; journals written before the quiz, and rounds not asked
	// about, have none.
	Quiz *Quiz `json:"quiz,omitempty"`
}

// Title is how the round is named on screen: its phase, and its label
// when it has one ("re-probe · US global, affinity local, 0 replicas · ...").
func (p ProbeRecord) Title() string {
	if p.Label == "" {
		return p.Phase
	}
	return p.Phase + " · " + p.Label
}

// StepRecord is what the journal keeps of a step that ran.
type StepRecord struct {
	Started  time.Time `json:"started"`
	Finished time.Time `json:"finished,omitzero"`
	Summary  string    `json:"summary,omitempty"`
}

type journalData struct {
	Version int                   `json:"version"`
	Steps   map[string]StepRecord `json:"steps"`
	Probes  []ProbeRecord         `json:"probes"`
}

// Journal records which steps ran and every probe's result, so a resumed lab
// knows what was probed and the history strip can show the whole story.
// It is saved after every change.
type Journal struct {
	mu   sync.Mutex
	data journalData
	save func([]byte) error
}

// NewJournal decodes a saved journal (nil or empty for a new lab) and saves
// changes through save (nil keeps it in memory).
func NewJournal(saved []byte, save func([]byte) error) (*Journal, error) {
	j := &Journal{data: journalData{Version: 1, Steps: map[string]StepRecord{}}, save: save}
	if len(saved) == 0 {
		return j, nil
	}
	if err := json.Unmarshal(saved, &j.data); err != nil {
		return nil, fmt.Errorf("decode journal: %w", err)
	}
	if j.data.Version != 1 {
		return nil, fmt.Errorf("decode journal: unknown format %d", j.data.Version)
	}
	if j.data.Steps == nil {
		j.data.Steps = map[string]StepRecord{}
	}
	if err := j.data.validate(); err != nil {
		return nil, fmt.Errorf("decode journal: %w", err)
	}
	return j, nil
}

// validate checks what a saved journal claims, so that a damaged or
// hand-edited file is reported as corrupt instead of drawn: known steps
// and phases, probes from the lab's clusters whose counts add up. Times
// are checked for order only (a step finished before it started): clocks
// are corrected backwards and labs move between machines, so a time in the
// future is no sign of damage.
func (d *journalData) validate() error {
	ids := map[string]bool{}
	for _, s := range All() {
		ids[s.ID()] = true
	}
	for id, r := range d.Steps {
		switch {
		case !ids[id]:
			return fmt.Errorf("unknown step %q", id)
		case r.Started.IsZero():
			return fmt.Errorf("step %q has no start time", id)
		case !r.Finished.IsZero() && r.Finished.Before(r.Started):
			return fmt.Errorf("step %q finished (%s) before it started (%s)", id, r.Finished.Format(time.RFC3339), r.Started.Format(time.RFC3339))
		}
	}
	for i, p := range d.Probes {
		if !ids[p.Step] && p.Step != PlaygroundID {
			return fmt.Errorf("probe %d: unknown step %q", i+1, p.Step)
		}
		if err := p.validate(); err != nil {
			return fmt.Errorf("probe %d (%s): %w", i+1, p.Step, err)
		}
	}
	return nil
}

// validate checks one recorded probe.
func (p ProbeRecord) validate() error {
	r := p.Result
	switch {
	case !slices.Contains(Phases, p.Phase):
		return fmt.Errorf("unknown phase %q", p.Phase)
	case r.From != cluster.US && r.From != cluster.EU:
		return fmt.Errorf("from unknown cluster %q", r.From)
	case r.Requests < 1 || r.Requests > cluster.MaxProbeRequests:
		return fmt.Errorf("%d requests is outside 1..%d", r.Requests, cluster.MaxProbeRequests)
	case r.Answers.US < 0 || r.Answers.EU < 0 || r.Errors < 0:
		return fmt.Errorf("negative counts (US %d, EU %d, errors %d)", r.Answers.US, r.Answers.EU, r.Errors)
	// Each count is bounded before they are added, which cannot overflow.
	case r.Answers.US > r.Requests || r.Answers.EU > r.Requests || r.Errors > r.Requests ||
		r.Answers.US+r.Answers.EU+r.Errors != r.Requests:
		return fmt.Errorf("US %d + EU %d + errors %d is not the %d requests sent", r.Answers.US, r.Answers.EU, r.Errors, r.Requests)
	case p.Time.IsZero():
		return errors.New("no time")
	case p.Quiz != nil:
		return p.Quiz.validate(r.From)
	}
	return nil
}

func (j *Journal) change(fn func(d *journalData)) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	fn(&j.data)
	if j.save == nil {
		return nil
	}
	b, err := json.MarshalIndent(j.data, "", "  ")
	if err != nil {
		return fmt.Errorf("encode journal: %w", err)
	}
	if err := j.save(append(b, '\n')); err != nil {
		return fmt.Errorf("save journal: %w", err)
	}
	return nil
}

// MarkStarted records that a step began.
func (j *Journal) MarkStarted(id string, at time.Time) error {
	return j.change(func(d *journalData) {
		d.Steps[id] = StepRecord{Started: at}
	})
}

// MarkDone records that a step finished, with its summary.
func (j *Journal) MarkDone(id string, at time.Time, summary string) error {
	return j.change(func(d *journalData) {
		r := d.Steps[id]
		r.Finished, r.Summary = at, summary
		d.Steps[id] = r
	})
}

// AddProbe records a finished probe, without its flows: they are for the
// screen (up to MaxProbeFlows a probe) and would swell the file that is
// rewritten after every change.
func (j *Journal) AddProbe(p ProbeRecord) error {
	p.Result.Flows, p.Result.FlowsOmitted = nil, 0
	return j.change(func(d *journalData) { d.Probes = append(d.Probes, p) })
}

// Step returns the record of a step, if it ran.
func (j *Journal) Step(id string) (StepRecord, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	r, ok := j.data.Steps[id]
	return r, ok
}

// Probes returns every recorded probe in order.
func (j *Journal) Probes() []ProbeRecord {
	j.mu.Lock()
	defer j.mu.Unlock()
	return slices.Clone(j.data.Probes)
}

// Probed reports whether the step's own run recorded a probe from every
// cluster; probing it again later does not count.
func (j *Journal) Probed(step string) bool {
	j.mu.Lock()
	defer j.mu.Unlock()
	var seen [2]bool
	for _, p := range j.data.Probes {
		if p.Step == step && p.Phase != PhaseReprobe {
			seen[p.Result.From.Index()] = true
		}
	}
	return seen[0] && seen[1]
}
