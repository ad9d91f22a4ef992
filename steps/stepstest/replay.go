package stepstest

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"k8s.io/client-go/tools/clientcmd"

	"github.com/clustermesh-lab/clustermesh-lab/steps"
)

// Term is one of the seed's terminals: the directory it is in and the
// variables it exported.
type Term struct {
	Dir string
	Env map[string]string
}

// Ran is a command as it ran: in which terminal, in which directory, with
// which environment.
type Ran struct {
	Cmd
	Terminal string
	Dir      string
	Env      map[string]string
}

// Terminals holds the seed's terminals across the steps of a lab, each
// starting in Home, so that a cd or an export shown in one step holds in
// the next, as it would for a learner.
type Terminals struct {
	// Home is where a new terminal starts: anywhere but the lab directory.
	Home  string
	terms map[string]*Term
}

// term returns the named terminal, opening it in Home the first time.
func (ts *Terminals) term(name string) *Term {
	if ts.terms == nil {
		ts.terms = map[string]*Term{}
	}
	t, ok := ts.terms[name]
	if !ok {
		t = &Term{Dir: ts.Home, Env: map[string]string{}}
		ts.terms[name] = t
	}
	return t
}

// names are the terminals a block's Where names: "US cluster (Terminal 1)
// & EU cluster (Terminal 2)" is both; "Any terminal" is a new one each time.
func (ts *Terminals) names(where string) []string {
	if where == "Any terminal" {
		return []string{""}
	}
	return strings.Split(where, " & ")
}

// Replay runs a step's blocks in the terminals they name, in order, and
// returns each command with the state it ran in; `cd` and `export` change
// the terminal. An error means a block the lab shows cannot be run as
// shown.
func (ts *Terminals) Replay(blocks []steps.Command) ([]Ran, error) {
	var out []Ran
	for _, b := range blocks {
		cmds, err := Parse(b.Lines)
		if err != nil {
			return nil, fmt.Errorf("%s: %q: %w", b.Where, b.Lines, err)
		}
		for _, name := range ts.names(b.Where) {
			t := &Term{Dir: ts.Home, Env: map[string]string{}}
			if name != "" {
				t = ts.term(name)
			}
			for _, c := range cmds {
				switch c.Args[0] {
				case "cd":
					if len(c.Args) != 2 {
						return nil, fmt.Errorf("%s: cd takes one directory: %v", name, c.Args)
					}
					dir := resolve(t.Dir, c.Args[1])
					if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
						return nil, fmt.Errorf("%s: cd %s: not a directory (%v)", name, c.Args[1], err)
					}
					t.Dir = dir
					continue
				case "export":
					for _, kv := range c.Args[1:] {
						k, v, _ := strings.Cut(kv, "=")
						t.Env[k] = v
					}
					continue
				}
				env := maps.Clone(t.Env)
				maps.Copy(env, c.Env)
				out = append(out, Ran{Cmd: c, Terminal: name, Dir: t.Dir, Env: env})
			}
		}
	}
	return out, nil
}

func resolve(dir, p string) string {
	if filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(dir, p)
}

// Flag returns the value of a flag given as --name value or --name=value
// (or its short form), looking only before a "--".
func Flag(args []string, names ...string) (string, bool) {
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			break
		}
		for _, n := range names {
			if a == n && i+1 < len(args) {
				return args[i+1], true
			}
			if v, ok := strings.CutPrefix(a, n+"="); ok {
				return v, true
			}
		}
	}
	return "", false
}

// Missing lists what the command names that does not exist where it runs:
// files it reads, the kubeconfigs it loads and the contexts it uses. Only
// the lab's programs are understood: kubectl, kind, cilium and helm;
// anything else (docker, sysctl, ss) names nothing the lab provides.
func Missing(r Ran) []string {
	var miss []string
	file := func(what, p string) {
		if _, err := os.Stat(resolve(r.Dir, p)); err != nil {
			miss = append(miss, fmt.Sprintf("%s %s (in %s): %v", what, p, r.Dir, err))
		}
	}
	if r.Out != "" {
		if fi, err := os.Stat(filepath.Dir(resolve(r.Dir, r.Out))); err != nil || !fi.IsDir() {
			miss = append(miss, fmt.Sprintf("directory of %s: %v", r.Out, err))
		}
	}
	args := r.Args
	switch args[0] {
	case "kubectl":
		if f, ok := Flag(args, "-f", "--filename"); ok && f != "-" {
			file("manifest", f)
		}
		needContext := !(len(args) > 1 && args[1] == "config")
		miss = append(miss, r.kubeconfig(needContext, "--context")...)
	case "cilium":
		if f, ok := Flag(args, "--values", "-f"); ok {
			file("values file", f)
		}
		miss = append(miss, r.kubeconfig(true, "--context", "--destination-context")...)
	case "kind":
		if len(args) > 2 && args[1] == "create" && args[2] == "cluster" {
			if f, ok := Flag(args, "--config"); ok {
				file("kind config", f)
			}
			name, _ := Flag(args, "--name", "-n")
			miss = append(miss, r.kubeconfigHolds("kind-"+name)...)
		}
	}
	return miss
}

// kubeconfigFiles are the files the command loads: --kubeconfig, else
// $KUBECONFIG's list.
func (r Ran) kubeconfigFiles() []string {
	if k, ok := Flag(r.Args, "--kubeconfig"); ok {
		return []string{resolve(r.Dir, k)}
	}
	var files []string
	for _, p := range filepath.SplitList(r.Env["KUBECONFIG"]) {
		if p != "" {
			files = append(files, resolve(r.Dir, p))
		}
	}
	return files
}

// kubeconfig checks the kubeconfig files exist and hold the contexts the
// command names with the given flags, or the current context when it
// names none and needs one.
func (r Ran) kubeconfig(needContext bool, ctxFlags ...string) []string {
	files := r.kubeconfigFiles()
	if len(files) == 0 {
		return []string{"no kubeconfig: neither --kubeconfig nor KUBECONFIG, so it would use ~/.kube/config, which the lab does not write"}
	}
	var miss []string
	var want []string
	for _, f := range ctxFlags {
		if v, ok := Flag(r.Args, f); ok {
			want = append(want, strings.Split(v, ",")...)
		}
	}
	contexts, current, err := loadContexts(files)
	if err != nil {
		return append(miss, err.Error())
	}
	if len(want) == 0 && needContext {
		if current == "" {
			return append(miss, fmt.Sprintf("no current context in %s", strings.Join(files, ":")))
		}
		want = []string{current}
	}
	for _, c := range want {
		if !slices.Contains(contexts, c) {
			miss = append(miss, fmt.Sprintf("context %s: not in %s (it has %v)", c, strings.Join(files, ":"), contexts))
		}
	}
	return miss
}

// kubeconfigHolds checks that the kubeconfig kind writes to ($KUBECONFIG,
// its first file) holds the cluster's context after the step.
func (r Ran) kubeconfigHolds(context string) []string {
	files := r.kubeconfigFiles()
	if len(files) == 0 {
		return []string{"kind would write ~/.kube/config: KUBECONFIG is not set"}
	}
	contexts, _, err := loadContexts(files[:1])
	if err != nil {
		return []string{err.Error()}
	}
	if !slices.Contains(contexts, context) {
		return []string{fmt.Sprintf("context %s: not in %s (it has %v)", context, files[0], contexts)}
	}
	return nil
}

// loadContexts merges the files as kubectl does: every file must exist
// here (the lab writes them all), the first current-context wins.
func loadContexts(files []string) (contexts []string, current string, err error) {
	var errs []error
	for _, f := range files {
		cfg, err := clientcmd.LoadFromFile(f)
		if err != nil {
			errs = append(errs, fmt.Errorf("kubeconfig %s: %w", f, err))
			continue
		}
		for name := range cfg.Contexts {
			if !slices.Contains(contexts, name) {
				contexts = append(contexts, name)
			}
		}
		if current == "" {
			current = cfg.CurrentContext
		}
	}
	slices.Sort(contexts)
	return contexts, current, errors.Join(errs...)
}

// CheckStep replays step s's commands (with v) in the terminals and fails
// the test for every file, kubeconfig or context they name that does not
// exist; call it after running the step.
func CheckStep(t testing.TB, ts *Terminals, s steps.Step, v steps.CommandVars) {
	t.Helper()
	ran, err := ts.Replay(s.Commands(v))
	if err != nil {
		t.Fatalf("step %s: %v", s.ID(), err)
	}
	for _, r := range ran {
		for _, m := range Missing(r) {
			t.Errorf("after step %s, %s in %s: %s", s.ID(), r.Cmd, r.Terminal, m)
		}
	}
}
