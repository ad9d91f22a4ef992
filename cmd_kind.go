package main

import (
	"context"
	"errors"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/cluster/labdir"
)

// newKindBackend builds the real backend.
func newKindBackend(ctx context.Context, dir *labdir.Dir, o *labOptions) (cluster.Backend, error) {
	return nil, cluster.WithHint(errors.New("the kind backend is not built yet"), "use --backend sim")
}
