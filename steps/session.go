package steps

import (
	"errors"
	"fmt"
	"os"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
	"github.com/clustermesh-lab/clustermesh-lab/labdir"
)

// LogFileName is the lab's log in the lab directory.
const LogFileName = "lab.log"

// Session is an open lab: its directory, backend, journal and runner.
type Session struct {
	Dir     *labdir.Dir
	Backend cluster.Backend
	Journal *Journal
	Env     *Env
	Runner  *Runner

	log    *os.File
	logRep *LogFile
}

// OpenSession loads the journal from the lab directory and opens its log;
// a journal that cannot be read is reported, never replaced.
func OpenSession(dir *labdir.Dir, backend cluster.Backend, requests int) (*Session, error) {
	saved, err := dir.ReadFile(JournalFile)
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, err
	}
	j, err := NewJournal(saved, dir.Store(JournalFile).Save)
	if err != nil {
		return nil, dir.Corrupt(JournalFile, err)
	}
	f, err := os.OpenFile(dir.File(LogFileName), os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o600)
	if err != nil {
		return nil, fmt.Errorf("open the lab log: %w", err)
	}
	s := &Session{Dir: dir, Backend: backend, Journal: j, log: f, logRep: NewLogFile(f)}
	s.Env = &Env{Backend: backend, Journal: j, Requests: requests, LabDir: dir.Path(), Reporter: s.logRep}
	s.Runner = NewRunner(s.Env)
	return s, nil
}

// SetReporter sends progress to r as well as to the lab log.
func (s *Session) SetReporter(r Reporter) { s.Env.Reporter = Tee(r, s.logRep) }

// Close closes the backend, the log and the lab directory's lock.
func (s *Session) Close() error {
	return errors.Join(s.Backend.Close(), s.log.Close(), s.Dir.Close())
}
