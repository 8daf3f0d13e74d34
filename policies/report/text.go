package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

// TextOptions tune the human-readable output.
type TextOptions struct {
	// Color uses ANSI colours; callers enable it only on a terminal.
	Color bool
}

const (
	reset  = "\x1b[0m"
	bold   = "\x1b[1m"
	dim    = "\x1b[2m"
	red    = "\x1b[31m"
	yellow = "\x1b[33m"
	cyan   = "\x1b[36m"
	blue   = "\x1b[34m"
)

// WriteText writes findings grouped by file and object, then errors and a summary.
func WriteText(w io.Writer, r *Report, opts TextOptions) error {
	p := &printer{w: w, color: opts.Color}
	lastFile, lastObj := "", ""
	for _, f := range r.Findings {
		if f.File != lastFile {
			if lastFile != "" {
				p.printf("\n")
			}
			p.printf("%s\n", p.paint(bold, f.File))
			lastFile, lastObj = f.File, ""
		}
		obj := objectLabel(f.Kind, f.Namespace, f.Name, f.Doc, f.Item)
		if r.Live {
			obj = liveLabel(f.Kind, f.Namespace, f.Name)
		}
		if obj != lastObj {
			p.printf("  %s\n", obj)
			lastObj = obj
		}
		where := fmt.Sprintf("line %d  %s", f.Line, f.Path)
		if r.Live {
			where = f.Path
		}
		p.printf("    %s %s %s\n", p.action(f.Action), p.paint(bold, f.Rule), p.paint(dim, where))
		p.printf("           %s\n", f.Message)
		if f.Fix != "" {
			p.printf("           %s %s\n", p.paint(dim, "fix:"), f.Fix)
		}
		if x := f.Exemption; x != nil {
			until := ""
			if x.Until != "" {
				until = ", until " + x.Until
			}
			p.printf("           %s %s (%s annotation%s; would be %s)\n", p.paint(dim, "exempted:"), x.Reason, x.Source, until, x.Action)
		}
		if f.DryRun {
			p.printf("           %s would be denied; the configuration's dryRun turns denies into warnings\n", p.paint(dim, "dry run:"))
		}
		if f.Note != "" {
			p.printf("           %s %s\n", p.paint(dim, "note:"), f.Note)
		}
		if x := f.Explain; x != nil {
			for _, line := range x.Prints {
				p.printf("           %s %s\n", p.paint(dim, "print:"), line)
			}
			p.printf("           %s\n", p.paint(dim, "evaluated:"))
			for _, line := range x.Trace {
				p.printf("             %s\n", line)
			}
		}
	}
	writePasses(p, r)
	if len(r.Errors) > 0 {
		if len(r.Findings) > 0 || len(r.Passes) > 0 {
			p.printf("\n")
		}
		p.printf("%s\n", p.paint(bold+red, "errors"))
		for _, e := range r.Errors {
			p.printf("  %s %s\n", p.paint(red, "✗"), errorLabel(e))
		}
	}
	if len(r.Findings) > 0 || len(r.Errors) > 0 {
		p.printf("\n")
	}
	s := r.Summary
	exempted := ""
	if s.Exempted > 0 {
		exempted = ", " + p.count(s.Exempted, "exempted", blue)
	}
	p.printf("%d objects, %d findings (%s, %s, %s, %s%s), %d errors\n",
		s.Objects, s.Findings,
		p.count(s.Deny, "deny", red), p.count(s.Warn, "warn", yellow),
		p.count(s.Mutate, "mutate", cyan), p.count(s.Audit, "audit", blue), exempted, s.Errors)
	return p.err
}

// writePasses lists, per object, the rules it was in scope of and passed
// (--passes).
func writePasses(p *printer, r *Report) {
	if len(r.Passes) == 0 {
		return
	}
	if len(r.Findings) > 0 {
		p.printf("\n")
	}
	p.printf("%s\n", p.paint(bold, "passed"))
	var last string
	var rules []string
	flush := func() {
		if last != "" {
			p.printf("  %s: %s\n", last, strings.Join(rules, ", "))
		}
	}
	for _, ps := range r.Passes {
		obj := ps.File + " " + objectLabel(ps.Kind, ps.Namespace, ps.Name, ps.Doc, ps.Item)
		if r.Live {
			obj = liveLabel(ps.Kind, ps.Namespace, ps.Name)
		}
		if obj != last {
			flush()
			last, rules = obj, nil
		}
		rules = append(rules, ps.Rule)
	}
	flush()
}

func liveLabel(kind, ns, name string) string {
	if ns == "" {
		return kind + " " + name
	}
	return kind + " " + ns + "/" + name
}

func objectLabel(kind, ns, name string, doc int, item *int) string {
	id := name
	if ns != "" {
		id = ns + "/" + name
	}
	where := fmt.Sprintf("document %d", doc)
	if item != nil {
		where += fmt.Sprintf(", item %d", *item)
	}
	return fmt.Sprintf("%s %s (%s)", kind, id, where)
}

func errorLabel(e Error) string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Doc != nil {
		fmt.Fprintf(&b, " (document %d)", *e.Doc)
	}
	b.WriteString(": ")
	b.WriteString(e.Message)
	return b.String()
}

type printer struct {
	w     io.Writer
	color bool
	err   error
}

func (p *printer) printf(format string, args ...any) {
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format, args...)
	}
}

func (p *printer) paint(code, s string) string {
	if !p.color || s == "" {
		return s
	}
	return code + s + reset
}

func (p *printer) action(a policies.Action) string {
	label := fmt.Sprintf("%-6s", a)
	switch a {
	case policies.ActionDeny:
		return p.paint(red, label)
	case policies.ActionWarn:
		return p.paint(yellow, label)
	case policies.ActionMutate:
		return p.paint(cyan, label)
	default:
		return p.paint(blue, label)
	}
}

func (p *printer) count(n int, label, color string) string {
	s := fmt.Sprintf("%d %s", n, label)
	if n == 0 {
		return s
	}
	return p.paint(color, s)
}
