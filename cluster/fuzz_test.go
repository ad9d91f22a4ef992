package cluster

import (
	"strings"
	"testing"
)

// FuzzClassifyAnswer is the probe's line classifier on any line: an answer
// is from US or EU, only blank lines are skipped, and the surrounding
// whitespace of a line never changes its class. Corpus:
// testdata/fuzz/FuzzClassifyAnswer (lines of the recorded probe loop).
func FuzzClassifyAnswer(f *testing.F) {
	f.Add("Hello world from US!")
	f.Fuzz(func(t *testing.T, line string) {
		from, ok, skip := ClassifyAnswer(line)
		if skip != (strings.TrimSpace(line) == "") || (ok && from != US && from != EU) || (skip && ok) {
			t.Fatalf("ClassifyAnswer(%q) = %q, %t, %t", line, from, ok, skip)
		}
		if f2, ok2, skip2 := ClassifyAnswer(" \t" + line + "\r"); f2 != from || ok2 != ok || skip2 != skip {
			t.Fatalf("ClassifyAnswer(%q) = %q %t %t, but with spaces around %q %t %t", line, from, ok, skip, f2, ok2, skip2)
		}
	})
}
