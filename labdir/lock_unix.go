//go:build unix

package labdir

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// lockFile holds the pid of the process driving the lab; the kernel drops
// the flock when that process dies, so a crash never leaves a stale lock.
const lockFile = "lab.lock"

func acquire(dir string) (*os.File, error) {
	path := filepath.Join(dir, lockFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("lock lab directory %s: %w", dir, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		b, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			who := "another clustermesh-lab"
			if pid, perr := strconv.Atoi(strings.TrimSpace(string(b))); perr == nil {
				who = fmt.Sprintf("another clustermesh-lab (pid %d)", pid)
			}
			return nil, cluster.WithHint(fmt.Errorf("%s is using lab directory %s", who, dir),
				"close it first, or use another --lab-dir")
		}
		return nil, fmt.Errorf("lock lab directory %s: %w", dir, err)
	}
	if err := f.Truncate(0); err == nil {
		f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	}
	return f, nil
}

func release(f *os.File) error {
	syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
	return f.Close()
}
