package config

import (
	"bytes"
	"context"
	"encoding/json"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/kgate-dev/kgate/policies"
)

var (
	engineOnce sync.Once
	engine     *policies.Engine
	engineErr  error
)

func testEngine(t *testing.T) *policies.Engine {
	t.Helper()
	engineOnce.Do(func() { engine, engineErr = policies.New(context.Background(), policies.Options{}) })
	if engineErr != nil {
		t.Fatal(engineErr)
	}
	return engine
}

// The printed default parses, validates, and configures exactly the defaults.
func TestDefaultRoundTrip(t *testing.T) {
	e := testEngine(t)
	var b bytes.Buffer
	if err := WriteDefault(&b, e); err != nil {
		t.Fatal(err)
	}
	c, err := Parse("default.yaml", b.Bytes())
	if err != nil {
		t.Fatalf("default does not parse: %v\n%s", err, b.String())
	}
	params, s, err := c.Resolve(e)
	if err != nil {
		t.Fatalf("default does not validate: %v", err)
	}
	ce, err := e.Configure(context.Background(), params, s)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(jsonRound(t, ce.Params()), jsonRound(t, e.Params())) {
		t.Errorf("default configuration changes parameters:\n got %v\nwant %v", ce.Params(), e.Params())
	}
	for _, r := range e.Rules() {
		if !strings.Contains(b.String(), "  "+r.ID+":\n    action: "+string(r.DefaultAction)) {
			t.Errorf("default configuration lacks rule %s with its default action", r.ID)
		}
	}
	// The same decisions on a deny rule's deliberate warning and a warn rule's deny.
	dep := map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "genai",
		"ownerReferences": []any{map[string]any{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "1", "controller": true}}},
		"spec": map[string]any{"containers": []any{map[string]any{"name": "c", "image": "i"}}}}
	deny := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy", "metadata": map[string]any{"name": "default-deny-ingress", "namespace": "genai"},
		"spec": map[string]any{"podSelector": map[string]any{}, "policyTypes": []any{"Ingress"}}}
	for _, in := range []*policies.Input{
		{Operation: "CREATE", Kind: policies.GVK{Version: "v1", Kind: "Pod"}, Namespace: "genai", Name: "p", Object: dep},
		{Operation: "DELETE", Kind: policies.GVK{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"}, Namespace: "genai", Name: "default-deny-ingress", OldObject: deny},
	} {
		want, err := e.Evaluate(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ce.Evaluate(context.Background(), in)
		if err != nil {
			t.Fatal(err)
		}
		if len(want.Findings) == 0 || !reflect.DeepEqual(got.Findings, want.Findings) {
			t.Errorf("%s %s: default configuration changes findings:\n got %+v\nwant %+v", in.Operation, in.Kind.Kind, got.Findings, want.Findings)
		}
	}
}

func TestValidationErrorsNameTheLine(t *testing.T) {
	head := "apiVersion: kgate.dev/v1alpha1\nkind: Config\n"
	tests := []struct {
		name, body, want string
	}{
		{"unknown rule", "rules:\n  NOPE-1:\n    action: warn\n", "cfg.yaml:4: unknown rule NOPE-1"},
		{"unknown parameter", "rules:\n  STORAGE-001:\n    params:\n      autoConvert: true\n", "cfg.yaml:6: rule STORAGE-001 has no parameter autoConvert"},
		{"wrong type", "rules:\n  STORAGE-001:\n    params:\n      autoConvertGp2: \"yes\"\n", "cfg.yaml:6: invalid parameters"},
		{"wrong global type", "params:\n  gpuThreshold: eight\n", "cfg.yaml:4: invalid parameters"},
		{"unknown global", "params:\n  gpuTreshold: 4\n", "cfg.yaml:4: unknown parameter gpuTreshold"},
		{"bad action", "rules:\n  NETPOL-002:\n    action: block\n", "cfg.yaml:5: action \"block\""},
		{"mutate without patch", "rules:\n  NETPOL-002:\n    action: mutate\n", "cfg.yaml:5: rule NETPOL-002 has no patch"},
		{"misspelt field", "rules:\n  NETPOL-002:\n    actoin: warn\n", `cfg.yaml:5: unknown field "actoin"`},
		{"bad selector", "rules:\n  NETPOL-002:\n    overrides:\n    - namespaceSelector: {matchExpressions: [{key: a, operator: Maybe}]}\n      action: deny\n", "cfg.yaml:6: "},
		{"override without scope", "rules:\n  NETPOL-002:\n    overrides:\n    - action: deny\n", "cfg.yaml:6: an override needs namespaces or a namespaceSelector"},
		{"unknown exemptable rule", "exemptions:\n  rules: [NOPE-2]\n", "cfg.yaml:4: unknown rule NOPE-2"},
		{"parameter set twice", "params:\n  autoConvertGp2: false\nrules:\n  STORAGE-001:\n    params:\n      autoConvertGp2: true\n", "parameter autoConvertGp2 is also set at line 4"},
	}
	e := testEngine(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			c, err := Parse("cfg.yaml", []byte(head+tc.body))
			if err == nil {
				_, _, err = c.Resolve(e)
			}
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("want an error containing %q, got %v", tc.want, err)
			}
		})
	}
	for name, text := range map[string]string{
		"wrong kind":    "apiVersion: kgate.dev/v1alpha1\nkind: Settings\n",
		"two documents": head + "---\n" + head,
		"empty":         "",
		"not yaml":      "rules: [\n",
	} {
		if _, err := Parse("cfg.yaml", []byte(text)); err == nil || !strings.Contains(err.Error(), "cfg.yaml") {
			t.Errorf("%s: want an error naming cfg.yaml, got %v", name, err)
		}
	}
}

// A configuration scoped by namespace label and name changes decisions exactly
// where it says.
func TestScopedConfiguration(t *testing.T) {
	c, err := Parse("cfg.yaml", []byte(`apiVersion: kgate.dev/v1alpha1
kind: Config
rules:
  NETPOL-002:
    action: warn
    overrides:
    - namespaceSelector: {matchLabels: {kgate.dev/genai: "true"}}
      action: deny
    - namespaces: [sandbox]
      action: off
`))
	if err != nil {
		t.Fatal(err)
	}
	e, err := c.Apply(context.Background(), testEngine(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		ns   policies.Namespace
		want policies.Action
	}{
		{policies.Namespace{Name: "llm", Labels: map[string]string{"kgate.dev/genai": "true"}}, policies.ActionDeny},
		{policies.Namespace{Name: "tools"}, policies.ActionWarn},
		{policies.Namespace{Name: "sandbox"}, ""},
	} {
		obj := map[string]any{"apiVersion": "networking.k8s.io/v1", "kind": "NetworkPolicy",
			"metadata": map[string]any{"name": "open", "namespace": tc.ns.Name},
			"spec":     map[string]any{"podSelector": map[string]any{}, "ingress": []any{map[string]any{}}}}
		ns := tc.ns
		d, err := e.Evaluate(context.Background(), &policies.Input{Operation: "CREATE", Kind: policies.GVK{Group: "networking.k8s.io", Version: "v1", Kind: "NetworkPolicy"},
			Namespace: ns.Name, Name: "open", Object: obj, NamespaceInfo: &ns})
		if err != nil {
			t.Fatal(err)
		}
		var got policies.Action
		for _, f := range d.Findings {
			if f.RuleID == "NETPOL-002" {
				got = f.Action
			}
		}
		if got != tc.want {
			t.Errorf("namespace %s: NETPOL-002 action %q, want %q", ns.Name, got, tc.want)
		}
	}
}

func jsonRound(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}
