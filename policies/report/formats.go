package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strings"

	"github.com/kgate-dev/kgate/policies"
)

// WriteGitHub writes GitHub Actions workflow commands, which the Actions runner
// turns into annotations on the pull request's files.
func WriteGitHub(w io.Writer, r *Report) error {
	for _, f := range r.Findings {
		level := "notice"
		switch f.Action {
		case policies.ActionDeny:
			level = "error"
		case policies.ActionWarn:
			level = "warning"
		}
		msg := fmt.Sprintf("%s %s: %s", objectLabel(f.Kind, f.Namespace, f.Name, f.Doc, f.Item), f.Path, f.Message)
		if f.Fix != "" {
			msg += "; fix: " + f.Fix
		}
		msg += trail(f)
		if _, err := fmt.Fprintf(w, "::%s file=%s,line=%d,title=%s::%s\n", level, ghProp(f.File), f.Line, ghProp(f.Rule+" ("+string(f.Action)+")"), ghData(msg)); err != nil {
			return err
		}
	}
	for _, e := range r.Errors {
		if _, err := fmt.Fprintf(w, "::error file=%s,line=%d,title=kgate input error::%s\n", ghProp(e.File), max(e.Line, 1), ghData(e.Message)); err != nil {
			return err
		}
	}
	s := r.Summary
	exempted := ""
	if s.Exempted > 0 {
		exempted = fmt.Sprintf(", %d exempted", s.Exempted)
	}
	_, err := fmt.Fprintf(w, "kgate: %d objects, %d findings (%d deny, %d warn, %d mutate, %d audit%s), %d errors\n", s.Objects, s.Findings, s.Deny, s.Warn, s.Mutate, s.Audit, exempted, s.Errors)
	return err
}

func ghData(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A").Replace(s)
}

func ghProp(s string) string {
	return strings.NewReplacer("%", "%25", "\r", "%0D", "\n", "%0A", ":", "%3A", ",", "%2C").Replace(s)
}

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	Failures  []junitDetail `xml:"failure,omitempty"`
	Errors    []junitDetail `xml:"error,omitempty"`
	SystemOut string        `xml:"system-out,omitempty"`
}

type junitDetail struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Body    string `xml:",chardata"`
}

// WriteJUnit writes one test suite per file and one test case per object with a
// finding: deny findings are failures, the others are listed in system-out so
// that CI systems show them without failing the build.
func WriteJUnit(w io.Writer, r *Report) error {
	suites := map[string]*junitSuite{}
	var order []string
	suite := func(file string) *junitSuite {
		s, ok := suites[file]
		if !ok {
			s = &junitSuite{Name: file}
			suites[file] = s
			order = append(order, file)
		}
		return s
	}
	cases := map[string]*junitCase{}
	for _, f := range r.Findings {
		s := suite(f.File)
		name := objectLabel(f.Kind, f.Namespace, f.Name, f.Doc, f.Item)
		key := f.File + "\x00" + name
		c, ok := cases[key]
		if !ok {
			s.Cases = append(s.Cases, junitCase{Name: name, Classname: f.File})
			c = &s.Cases[len(s.Cases)-1]
			cases[key] = c
		}
		line := fmt.Sprintf("%s %s line %d %s: %s; fix: %s%s", f.Rule, f.Action, f.Line, f.Path, f.Message, f.Fix, trail(f))
		if f.Action == policies.ActionDeny {
			c.Failures = append(c.Failures, junitDetail{Message: f.Rule + ": " + f.Message, Type: f.Rule, Body: line})
		} else {
			c.SystemOut += line + "\n"
		}
	}
	for _, e := range r.Errors {
		s := suite(e.File)
		s.Cases = append(s.Cases, junitCase{Name: errorLabel(e), Classname: e.File, Errors: []junitDetail{{Message: e.Message, Type: "input", Body: errorLabel(e)}}})
	}
	out := junitSuites{Name: "kgate"}
	for _, file := range order {
		s := suites[file]
		s.Tests = len(s.Cases)
		for _, c := range s.Cases {
			if len(c.Failures) > 0 {
				s.Failures++
			}
			if len(c.Errors) > 0 {
				s.Errors++
			}
		}
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
		out.Suites = append(out.Suites, *s)
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

// trail renders what a finding carries besides its message: the exemption that
// waived it, the dry-run downgrade, or why an exemption was not honoured.
func trail(f Finding) string {
	var s string
	if x := f.Exemption; x != nil {
		s += fmt.Sprintf(" [exempted: %s (%s annotation", x.Reason, x.Source)
		if x.Until != "" {
			s += ", until " + x.Until
		}
		s += fmt.Sprintf("; would be %s)]", x.Action)
	}
	if f.DryRun {
		s += " [dry run: would be denied]"
	}
	if f.Note != "" {
		s += " [note: " + f.Note + "]"
	}
	return s
}
