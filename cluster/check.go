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
	Name   string      `json:"name"`
	Status CheckStatus `json:"status"`
	Detail string      `json:"detail"`
	Fix    string      `json:"fix,omitempty"`
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
