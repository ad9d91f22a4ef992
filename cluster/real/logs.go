package real

import (
	"fmt"
	"io"
	"log"
	"strings"
	"sync"

	"github.com/go-logr/logr/funcr"
	"k8s.io/klog/v2"
	kindlog "sigs.k8s.io/kind/pkg/log"

	"github.com/clustermesh-lab/clustermesh-lab/cluster"
)

// diagWriter serialises writes from every library to the one diagnostic
// log; a nil destination drops them.
type diagWriter struct {
	mu sync.Mutex
	w  io.Writer
}

// Write appends p to the diagnostic log.
func (d *diagWriter) Write(p []byte) (int, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.w == nil {
		return len(p), nil
	}
	return d.w.Write(p)
}

// Logf writes one formatted line.
func (d *diagWriter) Logf(format string, args ...any) {
	line := fmt.Sprintf(format, args...)
	if !strings.HasSuffix(line, "\n") {
		line += "\n"
	}
	d.Write([]byte(line))
}

var routeOnce sync.Once

// routeLibraryLogs sends klog (client-go) and the standard logger (which
// Helm's chart code uses for its warnings) to w instead of stderr: the TUI
// owns the terminal, and neither library may write to it. Both are process
// globals, so this happens once, when the first cluster client is built.
func routeLibraryLogs(w io.Writer) {
	routeOnce.Do(func() {
		log.SetOutput(w)
		logger := funcr.New(func(prefix, args string) {
			fmt.Fprintf(w, "%s %s\n", prefix, args)
		}, funcr.Options{})
		klog.SetLoggerWithOptions(logger, klog.WriteKlogBuffer(func(b []byte) { w.Write(b) }))
	})
}

// kindLogger adapts a step's cluster.Logger to kind's logger: kind's
// user-facing messages (V(0), warnings, errors) become progress lines, its
// debug output goes to the diagnostic log.
type kindLogger struct {
	step cluster.Logger
	diag *diagWriter
}

var _ kindlog.Logger = kindLogger{}

func (l kindLogger) line(msg string) {
	for _, s := range strings.Split(strings.TrimRight(msg, "\n"), "\n") {
		if s = strings.TrimRight(s, " "); strings.TrimSpace(s) != "" {
			l.step.Logf("%s", s)
		}
	}
}

// Warn passes a warning on to the step's log.
func (l kindLogger) Warn(message string) { l.line("WARNING: " + message) }

// Warnf passes a formatted warning on to the step's log.
func (l kindLogger) Warnf(format string, args ...any) {
	l.line("WARNING: " + fmt.Sprintf(format, args...))
}

// Error passes an error message on to the step's log.
func (l kindLogger) Error(message string) { l.line("ERROR: " + message) }

// Errorf passes a formatted error message on to the step's log.
func (l kindLogger) Errorf(format string, args ...any) {
	l.line("ERROR: " + fmt.Sprintf(format, args...))
}

// V returns the progress log for level 0 and the diagnostic log above it.
func (l kindLogger) V(level kindlog.Level) kindlog.InfoLogger {
	if level > 0 {
		return kindInfo{write: func(s string) { l.diag.Logf("kind: %s", strings.TrimRight(s, "\n")) }, enabled: l.diag.w != nil}
	}
	return kindInfo{write: l.line, enabled: true}
}

type kindInfo struct {
	write   func(string)
	enabled bool
}

// Info writes a message when the level is enabled.
func (i kindInfo) Info(message string) {
	if i.enabled {
		i.write(message)
	}
}

// Infof writes a formatted message when the level is enabled.
func (i kindInfo) Infof(format string, args ...any) {
	if i.enabled {
		i.write(fmt.Sprintf(format, args...))
	}
}

// Enabled reports whether messages at this level are kept.
func (i kindInfo) Enabled() bool { return i.enabled }
