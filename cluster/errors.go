package cluster

import "errors"

// HintError carries what the learner should do about an error, next to it.
type HintError struct {
	Err  error
	Hint string
}

// Error returns the wrapped error's message; the hint is shown separately.
func (e *HintError) Error() string { return e.Err.Error() }

// Unwrap gives errors.Is and errors.As the wrapped error.
func (e *HintError) Unwrap() error { return e.Err }

// WithHint attaches what to do next to err; nil stays nil.
func WithHint(err error, hint string) error {
	if err == nil {
		return nil
	}
	return &HintError{Err: err, Hint: hint}
}

// HintOf returns the outermost hint attached to err, or "".
func HintOf(err error) string {
	var h *HintError
	if errors.As(err, &h) {
		return h.Hint
	}
	return ""
}
