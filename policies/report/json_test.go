package report

import (
	"bytes"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

// TestWriteJSONMatchesEncoder checks that the parallel writer gives the bytes
// encoding/json's indenting Encoder gives for the whole report, for reports with
// and without each section; a field added to Report and not to WriteJSON fails it.
func TestWriteJSONMatchesEncoder(t *testing.T) {
	one, two := 1, 2
	finding := func(i int) Finding {
		return Finding{
			Rule: "STORAGE-001", Action: policies.ActionMutate, Severity: "high", File: fmt.Sprintf("dir/f-%d.yaml", i),
			Doc: i, Item: &one, Line: 3 + i, Kind: "StorageClass", APIVersion: "storage.k8s.io/v1", Name: "gp2 <&> \"ü\"",
			Path: "/parameters/type", Message: "STORAGE-001 uses gp2\nnext line\t<b>", Fix: "set type: gp3",
			Patch:  []policies.PatchOp{{Op: "replace", Path: "/parameters/type", Value: map[string]any{"a": []any{1.5, nil, true, "x"}, "e": map[string]any{}, "l": []any{}}}},
			DryRun: i%2 == 0, Note: "n",
		}
	}
	var many, chunks []Finding
	for i := range 37 {
		many = append(many, finding(i))
	}
	// Several rounds of chunks on every CPU, the last one partial.
	for i := range 5*arrayChunk + 3 {
		chunks = append(chunks, finding(i))
	}
	for name, r := range map[string]*Report{
		"empty":   {Findings: []Finding{}, Errors: []Error{}},
		"one":     {Findings: []Finding{finding(0)}, Errors: []Error{}, Summary: Summary{Objects: 1, Findings: 1, Mutate: 1}},
		"many":    {Findings: many, Errors: []Error{{File: "a.yaml", Doc: &two, Line: 4, Message: "yaml: bad"}, {File: "b.yaml", Message: "not found"}}, Summary: Summary{Objects: 40, Errors: 2}},
		"passes":  {Findings: []Finding{}, Errors: []Error{}, Passes: []Pass{{Rule: "NET-001", File: "s.yaml", Kind: "Service", Item: &one}, {Rule: "TOPO-001"}}},
		"nil":     {},
		"chunks":  {Findings: chunks, Errors: []Error{}},
		"exempts": {Findings: []Finding{{Rule: "X", Exemption: &policies.Exemption{Reason: "r"}, Patch: nil}}},
	} {
		var want bytes.Buffer
		enc := json.NewEncoder(&want)
		enc.SetIndent("", "  ")
		if err := enc.Encode(r); err != nil {
			t.Fatal(err)
		}
		var got bytes.Buffer
		if err := WriteJSON(&got, r); err != nil {
			t.Fatal(err)
		}
		if got.String() != want.String() {
			t.Errorf("%s: WriteJSON differs from encoding/json:\n--- got\n%s\n--- want\n%s", name, got.String(), want.String())
		}
	}
}
