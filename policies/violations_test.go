package policies

import (
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
)

// TestParseViolationsBothForms reads violation sets as the planned program
// returns them (AST) and as topdown does (JSON): the findings, and which sets are
// malformed, must be the same.
func TestParseViolationsBothForms(t *testing.T) {
	r := &Rule{ID: "TEST-001", File: "test.rego", DefaultAction: ActionWarn, Severity: "low"}
	for _, tc := range []struct {
		name, set string
		want      []Finding
		bad       bool
	}{
		{name: "sorted by path then message", set: `{{"msg": "b", "path": "/spec", "fix": "f"}, {"msg": "a", "path": "/spec"}, {"msg": "c", "path": "/metadata", "action": "deny"}}`,
			want: []Finding{
				{RuleID: "TEST-001", Action: ActionDeny, Severity: "low", Path: "/metadata", Message: "c"},
				{RuleID: "TEST-001", Action: ActionWarn, Severity: "low", Path: "/spec", Message: "a"},
				{RuleID: "TEST-001", Action: ActionWarn, Severity: "low", Path: "/spec", Message: "b", Fix: "f"},
			}},
		{name: "fields of the wrong type read as empty", set: `{{"msg": "m", "path": 1, "fix": ["x"]}}`,
			want: []Finding{{RuleID: "TEST-001", Action: ActionWarn, Severity: "low", Message: "m"}}},
		{name: "empty set", set: `set()`},
		{name: "entry not an object", set: `{"just a string"}`, bad: true},
		{name: "no msg", set: `{{"path": "/spec"}}`, bad: true},
		{name: "msg not a string", set: `{{"msg": 1}}`, bad: true},
		{name: "unknown action", set: `{{"msg": "m", "action": "block"}}`, bad: true},
		{name: "action not a string", set: `{{"msg": "m", "action": true}}`, bad: true},
		{name: "not a set", set: `{"msg": "m"}`, bad: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := ast.MustParseTerm(tc.set).Value
			js, err := ast.JSON(v)
			if err != nil {
				t.Fatal(err)
			}
			var astIn any = v
			if s, ok := v.(ast.Set); ok && s.Len() == 0 {
				astIn = nil // planned.violation returns nil for an empty set
			}
			for form, in := range map[string]any{"ast": astIn, "json": js} {
				got, err := parseViolations(r, in)
				if tc.bad {
					if err == nil {
						t.Errorf("%s: want an error, got %+v", form, got)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s: %v", form, err)
				}
				if len(got) == 0 && len(tc.want) == 0 {
					continue
				}
				if !reflect.DeepEqual(got, tc.want) {
					t.Errorf("%s:\n got %+v\nwant %+v", form, got, tc.want)
				}
			}
		})
	}
}
