package report

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

// TestAppendFindingMatchesMarshal holds the hand-written encoder to the bytes of
// encoding/json for findings with every optional field and awkward strings.
func TestAppendFindingMatchesMarshal(t *testing.T) {
	item, neg := 0, -7
	for name, f := range map[string]Finding{
		"zero":              {},
		"plain":             {Rule: "NET-001", Action: policies.ActionMutate, Severity: "high", File: "a.yaml", Doc: 3, Line: 12, Kind: "Service", APIVersion: "v1", Namespace: "default", Name: "web", Path: "/metadata/annotations", Message: "NET-001 m", Fix: "set it", Patch: []policies.PatchOp{}},
		"item and negative": {Item: &item, Doc: neg, Line: -1, Patch: []policies.PatchOp{{Op: "add", Path: "/a~1b", Value: nil}}},
		"html and quotes":   {Message: `say "<b>" & 'x' \ back`, Fix: "a\u2028b\u2029c"},
		"control":           {Message: "tab\there\nnl\r\b\f\x00\x1f\x7f", Name: "é ü 日本"},
		"invalid utf8":      {Message: "bad \xff\xfe bytes", Path: "\xc3"},
		"nested": {
			Patch:     []policies.PatchOp{{Op: "add", Path: "/spec", Value: map[string]any{"b": []any{1.5, true, "x<y"}, "a": map[string]any{}, "c": []any{}}}},
			Exemption: &policies.Exemption{Source: "namespace", Reason: "r & d", Until: "2027-01-01", Action: policies.ActionDeny},
			DryRun:    true, Note: "note",
			Explain: &policies.Explanation{RuleID: "X-1", Trace: []string{"a", "b"}, Prints: []string{"p"}},
		},
		"empty explain": {Explain: &policies.Explanation{}},
	} {
		t.Run(name, func(t *testing.T) {
			assertFindingBytes(t, &f)
		})
	}
}

// TestAppendFindingCoversEveryField fails when Finding gains a field that
// appendFinding does not write.
func TestAppendFindingCoversEveryField(t *testing.T) {
	if n := reflect.TypeFor[Finding]().NumField(); n != findingFields {
		t.Fatalf("Finding has %d fields, appendFinding writes %d: encode the new one in appendFinding", n, findingFields)
	}
}

// FuzzAppendFinding compares the encoder with encoding/json on arbitrary strings,
// which come from users' manifests (names, paths) and rules (messages).
func FuzzAppendFinding(f *testing.F) {
	f.Add("NET-001", "web", "/spec/ports/0", "msg <&>", "fix\n", 3, true)
	f.Add("", "\xff", "\u2028", "\x00", "é", -1, false)
	f.Add(`q"uote`, `back\\slash`, "/a/0", `container "api" of Deployment "x"`, `C:\\`, 0, true)
	f.Fuzz(func(t *testing.T, rule, name, path, msg, fix string, n int, extra bool) {
		fd := Finding{Rule: rule, Action: policies.Action(fix), Name: name, Namespace: msg, Path: path, Message: msg, Fix: fix, Doc: n, Line: -n, File: name + path}
		if extra {
			fd.Item = &n
			fd.Note = rule
			fd.Patch = []policies.PatchOp{{Op: rule, Path: path, Value: msg}}
			fd.Exemption = &policies.Exemption{Reason: name}
		}
		assertFindingBytes(t, &fd)
	})
}

func assertFindingBytes(t *testing.T, f *Finding) {
	t.Helper()
	want, err := json.MarshalIndent(f, findingPrefix, findingIndent)
	if err != nil {
		t.Fatal(err)
	}
	got, err := appendFinding(nil, f)
	if err != nil {
		t.Fatal(err)
	}
	if string(got) != string(want) {
		t.Errorf("appendFinding differs from encoding/json:\n--- got\n%s\n--- want\n%s", got, want)
	}
}
