// Package labfiles writes what a backend puts into the lab directory (the
// contract's WriteLabFiles): the seed's kind configurations and demo
// manifests under the seed's names, the kubeconfigs and the merged one,
// a registry mirror's containerd hosts. The shown commands name these
// files, so the steps take their names from here. Every write is atomic.
package labfiles

import (
	"fmt"
	"os"
	"path/filepath"
)

// WriteAtomic writes data to a temporary file next to path, syncs it and
// renames it over path.
func WriteAtomic(path string, data []byte, perm os.FileMode) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Chmod(perm); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}
