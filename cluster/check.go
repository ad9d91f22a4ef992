package cluster

// CheckStatus grades a preflight check.
type CheckStatus int

// Check outcomes: a warning lets the lab go on, a failure stops it.
const (
	Pass CheckStatus = iota
	Warn
	Fail
)

// String is the word shown next to the check.
func (s CheckStatus) String() string {
	switch s {
	case Warn:
		return "warn"
	case Fail:
		return "fail"
	}
	return "ok"
}

// Check is one preflight check's outcome, with the fix when it did not pass.
type Check struct {
	// ID names the check for machines (doctor --json): stable across
	// releases and wordings, unlike Name. Empty for checks of no ID.
	ID     string      `json:"id,omitempty"`
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix,omitempty"`
	// Summary is the outcome in a few words, for one line on a slide
	// (doctor --summary); Detail says the same at length.
	Summary string `json:"summary,omitempty"`
}

// Failed reports whether any check failed.
func Failed(checks []Check) bool {
	for _, c := range checks {
		if c.Status == Fail {
			return true
		}
	}
	return false
}
