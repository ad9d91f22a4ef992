package steps

import (
	"errors"
	"fmt"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// provider is a step whose success supplies what a backend reports missing
// with a sentinel error (cluster.ErrNoCluster and the like); a probing step
// supplies one or none (nil).
type provider interface {
	provides() error
}

func (createStep) provides() error  { return cluster.ErrNoCluster }
func (installStep) provides() error { return cluster.ErrNoCilium }
func (enableStep) provides() error  { return cluster.ErrMeshNotEnabled }
func (connectStep) provides() error { return cluster.ErrNotConnected }
func (hubbleStep) provides() error  { return cluster.ErrNoHubble }

// withPrerequisite turns a backend's "missing" sentinel into what to do in
// the lab's terms: run the step that provides it, named by its number and
// id in list. at is the failing step's index (-1 outside a step): a step
// is never sent to itself or to a later one, whose error keeps the
// backend's own hint.
func withPrerequisite(list []Step, at int, err error) error {
	if err == nil {
		return nil
	}
	for i, s := range list {
		p, ok := s.(provider)
		if !ok || p.provides() == nil || !errors.Is(err, p.provides()) || (at >= 0 && i >= at) {
			continue
		}
		hint := fmt.Sprintf("run step %d (%s) first", i+1, s.ID())
		if h := cluster.HintOf(err); h != "" {
			hint = fmt.Sprintf("%s; then run step %d (%s)", h, i+1, s.ID())
		}
		return cluster.WithHint(err, hint)
	}
	return err
}

// Prerequisite is withPrerequisite over the lab's steps, for errors met
// outside a step (the guide's playground and re-probes).
func Prerequisite(err error) error { return withPrerequisite(All(), -1, err) }
