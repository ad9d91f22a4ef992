// Package stepstest replays the commands the lab's steps show, as a learner
// types them in the seed's terminals, and lists what each one names that
// does not exist: files, kubeconfigs, contexts. The tests of both backends
// use it after every step; only tests import it.
package stepstest

import (
	"errors"
	"fmt"
	"strings"

	"mvdan.cc/sh/v3/syntax"
)

// Cmd is one simple command of a shown block, as a shell runs it.
type Cmd struct {
	// Env holds the assignments before the command (KUBECONFIG=a:b kubectl ...).
	Env map[string]string
	// Args are the command's words, quotes removed.
	Args []string
	// Out is the file its output is redirected to (> file), or "".
	Out string
	// Piped is set when the command reads the previous command's output.
	Piped bool
}

// String renders the command for messages.
func (c Cmd) String() string { return strings.Join(c.Args, " ") }

// Parse parses a block's lines as one shell script, as a terminal would
// run them pasted in order: `\` continuations, quotes, pipes, && and ||,
// assignments before a command and output redirections. Anything it cannot
// read literally (a $VAR, a $(...) outside quotes, a here-document) is an
// error, since the lab never shows one.
func Parse(lines []string) ([]Cmd, error) {
	f, err := syntax.NewParser(syntax.Variant(syntax.LangBash)).Parse(strings.NewReader(strings.Join(lines, "\n")+"\n"), "")
	if err != nil {
		return nil, err
	}
	var out []Cmd
	for _, st := range f.Stmts {
		if err := walk(st, false, &out); err != nil {
			return nil, err
		}
	}
	return out, nil
}

func walk(st *syntax.Stmt, piped bool, out *[]Cmd) error {
	if st.Background || st.Negated || st.Coprocess {
		return errors.New("background, negated and coprocess commands are not shown by the lab")
	}
	var redirect string
	for _, r := range st.Redirs {
		if r.Op != syntax.RdrOut && r.Op != syntax.AppOut {
			return fmt.Errorf("unsupported redirection %s", r.Op)
		}
		w, err := Literal(r.Word)
		if err != nil {
			return err
		}
		redirect = w
	}
	switch c := st.Cmd.(type) {
	case *syntax.CallExpr:
		cmd := Cmd{Env: map[string]string{}, Out: redirect, Piped: piped}
		for _, a := range c.Assigns {
			if a.Naked || a.Append || a.Array != nil || a.Index != nil {
				return fmt.Errorf("unsupported assignment to %s", a.Name.Value)
			}
			v := ""
			if a.Value != nil {
				var err error
				if v, err = Literal(a.Value); err != nil {
					return err
				}
			}
			cmd.Env[a.Name.Value] = v
		}
		for _, w := range c.Args {
			s, err := Literal(w)
			if err != nil {
				return err
			}
			cmd.Args = append(cmd.Args, s)
		}
		if len(cmd.Args) == 0 {
			return errors.New("an assignment on its own sets nothing for the next line: export it")
		}
		*out = append(*out, cmd)
	case *syntax.DeclClause:
		if c.Variant.Value != "export" {
			return fmt.Errorf("unsupported %s", c.Variant.Value)
		}
		cmd := Cmd{Args: []string{"export"}, Env: map[string]string{}}
		for _, a := range c.Args {
			if a.Value == nil {
				return fmt.Errorf("export %s without a value", a.Name.Value)
			}
			v, err := Literal(a.Value)
			if err != nil {
				return err
			}
			cmd.Args = append(cmd.Args, a.Name.Value+"="+v)
		}
		*out = append(*out, cmd)
	case *syntax.BinaryCmd:
		if err := walk(c.X, piped, out); err != nil {
			return err
		}
		return walk(c.Y, c.Op == syntax.Pipe, out)
	default:
		return fmt.Errorf("unsupported shell construct %T", c)
	}
	return nil
}

// Literal is a word's value after quote removal; words with expansions
// outside single quotes are errors.
func Literal(w *syntax.Word) (string, error) {
	var b strings.Builder
	for _, p := range w.Parts {
		switch p := p.(type) {
		case *syntax.Lit:
			if strings.Contains(p.Value, `\`) {
				return "", fmt.Errorf("unsupported backslash escape in %q", p.Value)
			}
			b.WriteString(p.Value)
		case *syntax.SglQuoted:
			if p.Dollar {
				return "", errors.New("unsupported $'...' quoting")
			}
			b.WriteString(p.Value)
		case *syntax.DblQuoted:
			for _, q := range p.Parts {
				lit, ok := q.(*syntax.Lit)
				if !ok || strings.Contains(lit.Value, `\`) {
					return "", fmt.Errorf("unsupported expansion inside double quotes: %T", q)
				}
				b.WriteString(lit.Value)
			}
		default:
			return "", fmt.Errorf("unsupported expansion %T: the lab shows literal words only", p)
		}
	}
	return b.String(), nil
}
