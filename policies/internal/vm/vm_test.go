package vm

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	"github.com/open-policy-agent/opa/v1/rego"
	"github.com/open-policy-agent/opa/v1/util"
)

type capture struct{ pol *ir.Policy }

func (*capture) IsTarget(t string) bool { return t == "vm-test" }
func (c *capture) PrepareForEval(_ context.Context, p *ir.Policy, _ ...rego.PrepareOption) (rego.TargetPluginEval, error) {
	c.pol = p
	return nil, nil
}

var (
	registered sync.Once
	captured   = &capture{}
)

// planModule plans data.p.out of one module the way the engine plans its rules.
func planModule(t *testing.T, src string) *Program {
	t.Helper()
	registered.Do(func() { rego.RegisterPlugin("vm-test", captured) })
	_, err := rego.New(rego.Query("x := data.p.out"), rego.Module("p.rego", src), rego.Target("vm-test")).PrepareForEval(context.Background())
	if err != nil {
		t.Fatalf("plan: %v", err)
	}
	p, err := Compile(captured.pol, nil)
	if err != nil {
		t.Fatalf("compile: %v", err)
	}
	return p
}

// TestAgainstTopdown runs small policies that exercise each kind of statement
// (breaks out of nested blocks, scans, negation, with, conflicts, relations,
// folded literals, collections that stay empty) on the VM and on topdown.
func TestAgainstTopdown(t *testing.T) {
	for _, tc := range []struct {
		name, src, input string
		conflict         bool
	}{
		{name: "array literals built at run time", src: `package p
pair := [input.a, input.b]
out := {
	"pair": pair, "nested": [input.a, [input.b, input.a], pair],
	"msg": sprintf("%v-%v", [input.a, input.b]),
	"each": [[x, input.a] | some x in input.xs],
	"partial": [y | some x in input.xs; y := [x, input.o[x]]],
	"count": count([input.a, input.b, input.a]),
}`, input: `{"a": "A", "b": 2, "xs": ["k", "m"], "o": {"k": 1}}`},
		{name: "partial set over a scan", src: `package p
out contains x if { some x in input.xs; x > 1 }`, input: `{"xs": [1, 2, 3]}`},
		{name: "empty partial set", src: `package p
out contains x if { some x in input.xs; x > 10 }`, input: `{"xs": [1, 2]}`},
		{name: "object scan and keys", src: `package p
out[k] := v if { some k, v in input.o; v != "b" }`, input: `{"o": {"x": "a", "y": "b", "z": "c"}}`},
		{name: "negation", src: `package p
out if { not input.missing; not input.flag == false }`, input: `{"flag": true}`},
		{name: "else and default", src: `package p
default out := "none"
out := "big" if input.n > 10
else := "small" if input.n > 1`, input: `{"n": 5}`},
		{name: "function with arguments", src: `package p
f(a, b) := a + b if a > 0
f(a, _) := 0 - a if a <= 0
out := [f(1, 2), f(-3, 1)]`, input: `{}`},
		{name: "every", src: `package p
out if { every c in input.cs { c.ok } }`, input: `{"cs": [{"ok": true}, {"ok": true}]}`},
		{name: "every fails", src: `package p
out if { every c in input.cs { c.ok } }`, input: `{"cs": [{"ok": true}, {"ok": false}]}`},
		{name: "comprehensions", src: `package p
out := {"arr": [x | some x in input.xs; x != 2], "set": {x | some x in input.xs}, "obj": {x: true | some x in input.xs}}`, input: `{"xs": [1, 2, 2, 3]}`},
		{name: "folded literal membership", src: `package p
out := [op | some op in input.ops; op in {"CREATE", "UPDATE"}]`, input: `{"ops": ["CREATE", "DELETE", "UPDATE"]}`},
		{name: "nested literal", src: `package p
out := {"a": [1, {"b": "c"}], "d": set()}`, input: `{}`},
		{name: "walk relation", src: `package p
out := [p | walk(input, [p, v]); v == "x"]`, input: `{"a": {"b": "x"}, "c": ["x"]}`},
		{name: "builtin error is undefined", src: `package p
out := to_number(input.s)`, input: `{"s": "not a number"}`},
		{name: "data references break out of nested blocks", src: `package p
import data.q
out := object.get(q.t, input.k, "default")`, input: `{"k": "b"}`},
		{name: "with", src: `package p
inner := input.x
out := x if x := inner with input.x as 42`, input: `{"x": 1}`},
		{name: "complete rule conflict", src: `package p
out := x if some x in input.xs`, input: `{"xs": [1, 2]}`, conflict: true},
		{name: "object literals with constant and computed keys", src: `package p
out := [{"a": input.a, "b": [input.b]}, {input.k: 1, "z": input.a}, {"x": {"y": input.a, "w": input.b}}, {k: {"v": v, "k": k} | some k, v in input.o}]`,
			input: `{"a": "A", "b": 2, "k": "z", "o": {"m": 1, "n": 2}}`},
		{name: "sprintf and strings", src: `package p
out := sprintf("%s has %d", [replace(input.s, "/", "~1"), count(input.s)])`, input: `{"s": "a/b"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			src := tc.src
			mods := []func(*rego.Rego){rego.Module("p.rego", src)}
			if tc.name == "data references break out of nested blocks" {
				mods = append(mods, rego.Module("q.rego", "package q\nt := {\"a\": 1, \"b\": 2}"))
				src += "\n"
			}
			input := util.MustUnmarshalJSON([]byte(tc.input))
			td, tdErr := rego.New(append(mods, rego.Query("data.p.out"), rego.Input(input))...).Eval(context.Background())

			registered.Do(func() { rego.RegisterPlugin("vm-test", captured) })
			if _, err := rego.New(append(mods, rego.Query("x := data.p.out"), rego.Target("vm-test"))...).PrepareForEval(context.Background()); err != nil {
				t.Fatal(err)
			}
			prog, err := Compile(captured.pol, nil)
			if err != nil {
				t.Fatal(err)
			}
			f, ok := prog.Func("p.out")
			if !ok {
				t.Fatal("no function for p.out")
			}
			iv, err := ast.InterfaceToValue(input)
			if err != nil {
				t.Fatal(err)
			}
			ev := prog.NewEval(context.Background(), ast.NewTerm(iv), ast.ObjectTerm(), time.Now(), NewCache())
			got, vmErr := ev.Call(f)
			ev.Release()

			if tc.conflict {
				if tdErr == nil || vmErr == nil {
					t.Fatalf("want a conflict from both: topdown %v, vm %v", tdErr, vmErr)
				}
				return
			}
			if tdErr != nil || vmErr != nil {
				t.Fatalf("topdown error %v, vm error %v", tdErr, vmErr)
			}
			var want *ast.Term
			if len(td) == 1 {
				v, err := ast.InterfaceToValue(td[0].Expressions[0].Value)
				if err != nil {
					t.Fatal(err)
				}
				want = ast.NewTerm(v)
			}
			switch {
			case want == nil && got != nil:
				t.Errorf("topdown: undefined, vm: %v", got)
			case want != nil && got == nil:
				t.Errorf("topdown: %v, vm: undefined", want)
			case want != nil && want.Value.Compare(normalise(t, got).Value) != 0:
				t.Errorf("topdown: %v\nvm:      %v", want, got)
			}
		})
	}
}

// normalise converts a VM value the way topdown's results reach callers (sets
// become arrays in Go), so both sides compare alike.
func normalise(t *testing.T, v *ast.Term) *ast.Term {
	t.Helper()
	x, err := ast.JSON(v.Value)
	if err != nil {
		t.Fatal(err)
	}
	y, err := ast.InterfaceToValue(x)
	if err != nil {
		t.Fatal(err)
	}
	return ast.NewTerm(y)
}

// TestCacheKeepsPureRulesOnly proves that a value computed from parameters alone
// is reused across evaluations while one computed from the object is not.
func TestCacheKeepsPureRulesOnly(t *testing.T) {
	prog := planModule(t, `package p
allowed := {x | some x in input.params.allowed}
whole := {"input": input, "n": 1}
pair := [input, 1]
out := [input.object.v in allowed, count(allowed), whole.input.object.v, pair[0].object.v]`)
	f, _ := prog.Func("p.out")
	cache := NewCache()
	data := ast.ObjectTerm()
	run := func(input string) *ast.Term {
		ev := prog.NewEval(context.Background(), ast.MustParseTerm(input), data, time.Now(), cache)
		defer ev.Release()
		v, err := ev.Call(f)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	if got := run(`{"params": {"allowed": ["a"]}, "object": {"v": "a"}}`); got.String() != `[true, 1, "a", "a"]` {
		t.Fatalf("first evaluation: %v", got)
	}
	if got := run(`{"params": {"allowed": ["a"]}, "object": {"v": "b"}}`); got.String() != `[false, 1, "b", "b"]` {
		t.Fatalf("the object's value must not be cached: %v", got)
	}
	pure := 0
	for _, fn := range prog.funcs {
		if fn.pure {
			pure++
			if fn.name != "g0.data.p.allowed" {
				t.Errorf("%s marked pure", fn.name)
			}
		}
	}
	if pure != 1 {
		t.Errorf("want exactly data.p.allowed pure, got %d pure functions", pure)
	}
}
