package labdir

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// notLabHint is what to do about a --lab-dir that is not a lab directory.
const notLabHint = "give --lab-dir a new or empty directory, or an existing lab directory; nothing was changed"

// resolve makes path absolute and, when it is a symbolic link, follows it,
// so that the lab lives where the link points and --fresh moves the lab,
// not the link. fi is nil when nothing exists at path (or a parent is not
// a directory, which creating the directory then reports).
func resolve(path string) (abs string, fi os.FileInfo, err error) {
	abs, err = filepath.Abs(path)
	if err != nil {
		return "", nil, fmt.Errorf("lab directory %s: %w", path, err)
	}
	lfi, err := os.Lstat(abs)
	if err != nil {
		return abs, nil, nil
	}
	if lfi.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(abs)
		if err != nil {
			link, _ := os.Readlink(abs)
			if errors.Is(err, fs.ErrNotExist) {
				return "", nil, cluster.WithHint(fmt.Errorf("lab directory %s is a symbolic link to %s, which does not exist", abs, link),
					fmt.Sprintf("create %s first, or choose another --lab-dir", link))
			}
			return "", nil, cluster.WithHint(fmt.Errorf("lab directory %s: follow the symbolic link: %w", abs, err), "choose another --lab-dir")
		}
		abs = target
	}
	fi, err = os.Stat(abs)
	if err != nil {
		return abs, nil, nil
	}
	if !fi.IsDir() {
		return "", nil, cluster.WithHint(fmt.Errorf("lab directory %s is a file, not a directory", abs), "choose another --lab-dir")
	}
	return abs, fi, nil
}

// isLab reports whether dir holds a lab: its lab.json, readable or not.
func isLab(dir string) bool {
	_, err := os.Lstat(filepath.Join(dir, MetaFile))
	return err == nil
}

// leftover reports names a lab directory holds before its lab.json: the
// lock, and the temporary files of an interrupted first write.
func leftover(name string) bool {
	return name == lockFile || strings.HasPrefix(name, ".write-test-") || strings.HasPrefix(name, "."+MetaFile+".tmp-")
}

// checkLabOrEmpty refuses an existing directory that is neither a lab nor
// empty (but for leftovers of a lab's first start).
func checkLabOrEmpty(dir string) error {
	if isLab(dir) {
		return nil
	}
	f, err := os.Open(dir)
	if err != nil {
		return cluster.WithHint(fmt.Errorf("read lab directory %s: %w", dir, err), "fix its permissions or choose another --lab-dir")
	}
	defer f.Close()
	// Enough names to show a few in a stable order, without reading a
	// whole home directory.
	var foreign []string
	for len(foreign) < 1000 {
		names, err := f.Readdirnames(64)
		for _, n := range names {
			if !leftover(n) {
				foreign = append(foreign, n)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return cluster.WithHint(fmt.Errorf("read lab directory %s: %w", dir, err), "fix its permissions or choose another --lab-dir")
		}
	}
	slices.Sort(foreign)
	if len(foreign) == 0 {
		return nil
	}
	shown := strings.Join(foreign[:min(len(foreign), 3)], ", ")
	if len(foreign) > 3 {
		shown += ", ..."
	}
	return cluster.WithHint(fmt.Errorf("%s is not a lab directory: it holds %s and no %s", dir, shown, MetaFile), notLabHint)
}

// checkMovable refuses to move the filesystem root, the home directory,
// or a directory that holds the current directory: moving it would pull
// the learner's shell, or their whole home, into the backup.
func checkMovable(dir string) error {
	real, err := filepath.EvalSymlinks(dir)
	if err != nil {
		return fmt.Errorf("lab directory %s: %w", dir, err)
	}
	if filepath.Dir(real) == real {
		return cluster.WithHint(fmt.Errorf("--fresh would move %s, the root directory", real), "choose another --lab-dir")
	}
	if home, err := os.UserHomeDir(); err == nil && home != "" {
		if h, err := filepath.EvalSymlinks(home); err == nil && h == real {
			return cluster.WithHint(fmt.Errorf("--fresh would move %s, your home directory", real), "choose another --lab-dir")
		}
	}
	if cwd, err := os.Getwd(); err == nil {
		if c, err := filepath.EvalSymlinks(cwd); err == nil && within(real, c) {
			return cluster.WithHint(fmt.Errorf("--fresh would move lab directory %s, which holds the current directory %s", real, c),
				"run the command from outside the lab directory (cd ..); nothing was changed")
		}
	}
	return nil
}

// within reports whether path is dir or lies under it.
func within(dir, path string) bool {
	rel, err := filepath.Rel(dir, path)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
