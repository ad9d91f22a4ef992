package tui

import (
	tea "charm.land/bubbletea/v2"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Messages from the runner goroutine, in the order the runner produced them.
type (
	stepStartedMsg struct{ index int }
	logBatchMsg    struct{ lines []steps.LogLine }
	probeMsg       struct{ update steps.ProbeUpdate }
	stepDoneMsg    struct {
		index  int
		result steps.Result
	}
	// actionDoneMsg ends an action that is not a step (a re-probe, a
	// playground change), with the probes it took and its error.
	actionDoneMsg struct {
		what string
		recs []steps.ProbeRecord
		err  error
	}
	// progressMsg is the live state read after a step: the runner's Resume.
	progressMsg struct {
		next int
		done []bool
		err  error
	}
)

// events carries the runner's reports to the program through one channel,
// so they keep their order and a slow screen slows the runner instead of
// piling up messages.
type events struct{ ch chan tea.Msg }

func newEvents() *events { return &events{ch: make(chan tea.Msg, 256)} }

// StepStarted implements steps.Reporter.
func (e *events) StepStarted(s steps.Step, i int) { e.ch <- stepStartedMsg{index: i} }

// Log implements steps.Reporter.
func (e *events) Log(l steps.LogLine) { e.ch <- logBatchMsg{lines: []steps.LogLine{l}} }

// ProbeProgress implements steps.Reporter.
func (e *events) ProbeProgress(p steps.ProbeUpdate) { e.ch <- probeMsg{update: p} }

// StepDone implements steps.Reporter.
func (e *events) StepDone(s steps.Step, i int, r steps.Result) {
	e.ch <- stepDoneMsg{index: i, result: r}
}

// send queues any message behind the runner's reports.
func (e *events) send(m tea.Msg) { e.ch <- m }

// next waits for the next report; consecutive log lines already queued are
// coalesced into one message so a chatty action costs one render, not
// hundreds. Update re-arms it after each message.
func (e *events) next() tea.Cmd {
	return func() tea.Msg {
		m := <-e.ch
		batch, ok := m.(logBatchMsg)
		if !ok {
			return m
		}
		for {
			select {
			case m2 := <-e.ch:
				if more, ok := m2.(logBatchMsg); ok && len(batch.lines) < 200 {
					batch.lines = append(batch.lines, more.lines...)
					continue
				}
				// Not a log line: put it back at the head by handing it
				// over after this batch.
				return batchThen{batch: batch, then: m2}
			default:
				return batch
			}
		}
	}
}

// batchThen is a log batch followed by the message that ended it.
type batchThen struct {
	batch logBatchMsg
	then  tea.Msg
}
