//go:build !unix

package labdir

import (
	"fmt"
	"os"
	"path/filepath"
)

// lockFile marks the directory as in use; without flock, a stale file from a
// crash is simply reused, so only the unix build refuses concurrent use.
const lockFile = "lab.lock"

func acquire(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, lockFile), os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock lab directory %s: %w", dir, err)
	}
	return f, nil
}

func release(f *os.File) error { return f.Close() }
