package check

import (
	"context"
	"strings"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

// TestRuleExamples proves the examples `kgate explain` prints: the bad example of
// every built-in rule is reported by that rule and the good one passes it. The
// last document of an example is the object under review; earlier ones are the
// inventory a referential rule reads.
func TestRuleExamples(t *testing.T) {
	e, err := policies.New(context.Background(), policies.Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range e.Rules() {
		t.Run(r.ID, func(t *testing.T) {
			if r.Examples.Bad == "" || r.Examples.Good == "" {
				t.Fatalf("%s (%s): custom.examples needs a bad and a good manifest", r.ID, r.File)
			}
			if r.Why == "" {
				t.Errorf("%s (%s): custom.why must say what the practice saves or protects", r.ID, r.File)
			}
			bad := runExample(t, e, r.Examples.Bad)
			if !bad.reported(r.ID) {
				t.Errorf("bad example is not reported by %s; findings: %v", r.ID, bad.findings)
			}
			good := runExample(t, e, r.Examples.Good)
			if good.reported(r.ID) {
				t.Errorf("good example is reported by %s: %v", r.ID, good.findings)
			}
		})
	}
}

type exampleResult struct {
	last     int
	findings []string // "RULE action: message" of the last document
	rules    map[string]bool
}

func (x exampleResult) reported(id string) bool { return x.rules[id] }

func runExample(t *testing.T, e *policies.Engine, manifest string) exampleResult {
	t.Helper()
	res, err := Run(context.Background(), e, Options{Paths: []string{"-"}, Stdin: strings.NewReader(manifest)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Report.Errors) > 0 {
		t.Fatalf("example does not parse: %+v", res.Report.Errors)
	}
	// Examples hold one object per document, so the count of objects locates the last.
	x := exampleResult{last: res.Report.Summary.Objects - 1, rules: map[string]bool{}}
	for _, f := range res.Report.Findings {
		if f.Doc == x.last {
			x.rules[f.Rule] = true
			x.findings = append(x.findings, f.Rule+" "+string(f.Action)+": "+f.Message)
		}
	}
	return x
}
