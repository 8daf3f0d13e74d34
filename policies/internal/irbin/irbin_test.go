package irbin

import (
	"encoding/json"
	"reflect"
	"testing"

	"github.com/open-policy-agent/opa/v1/ir"
)

// filled returns a statement of type t with every stored field set to a
// distinct non-zero value, so a field the codec drops or mixes up shows.
func filled(t reflect.Type, n *int) ir.Stmt {
	v := reflect.New(t)
	fill(v.Elem(), n)
	return v.Interface().(ir.Stmt)
}

func fill(v reflect.Value, n *int) {
	*n++
	switch v.Kind() {
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(int64(*n))
	case reflect.Uint32:
		v.SetUint(uint64(*n))
	case reflect.String:
		v.SetString("s" + string(rune('a'+*n%26)))
	case reflect.Bool:
		v.SetBool(true)
	case reflect.Slice:
		s := reflect.MakeSlice(v.Type(), 2, 2)
		for i := range 2 {
			fill(s.Index(i), n)
		}
		v.Set(s)
	case reflect.Pointer:
		// Only blocks: hold one statement, to nest.
		v.Set(reflect.ValueOf(&ir.Block{Stmts: []ir.Stmt{&ir.AssignIntStmt{Value: int64(*n), Target: ir.Local(*n)}}}))
	case reflect.Interface:
		// Operand values: cycle through the three kinds.
		vals := []ir.Val{ir.Local(*n), ir.StringIndex(*n), ir.Bool(*n%2 == 0)}
		v.Set(reflect.ValueOf(vals[*n%3]))
	case reflect.Struct:
		for _, i := range fields(v.Type()) {
			fill(v.Field(i), n)
		}
	}
}

func TestRoundTripEveryStatement(t *testing.T) {
	n := 0
	var stmts []ir.Stmt
	for _, s := range stmtTypes {
		stmts = append(stmts, filled(reflect.TypeOf(s).Elem(), &n))
	}
	pol := &ir.Policy{
		Static: &ir.Static{Strings: []*ir.StringConst{{Value: "a"}, {Value: ""}, {Value: "ünïcode"}}},
		Funcs: &ir.Funcs{Funcs: []*ir.Func{
			{Name: "g0.data.p", Params: []ir.Local{0, 1}, Return: 2, Blocks: []*ir.Block{{Stmts: stmts}}, Path: []string{"g0", "p"}},
			{Name: "g0.data.q", Params: []ir.Local{0, 1, 2}, Return: 3, Blocks: []*ir.Block{{Stmts: []ir.Stmt{&ir.ReturnLocalStmt{Source: 3}}}}},
		}},
	}
	b, err := Encode(pol)
	if err != nil {
		t.Fatal(err)
	}
	got, err := Decode(b)
	if err != nil {
		t.Fatal(err)
	}
	// OPA's JSON form of a plan holds every field that means something.
	want, _ := json.Marshal(pol.Funcs)
	have, _ := json.Marshal(got.Funcs)
	if string(want) != string(have) {
		t.Errorf("functions differ after a round trip:\nwant %s\ngot  %s", want, have)
	}
	if len(got.Static.Strings) != 3 || got.Static.Strings[2].Value != "ünïcode" {
		t.Errorf("strings differ after a round trip: %v", got.Static.Strings)
	}
}

func TestEncodeRefusesUnknownStatements(t *testing.T) {
	type foreign struct{ ir.NopStmt }
	pol := &ir.Policy{Funcs: &ir.Funcs{Funcs: []*ir.Func{{Name: "f", Blocks: []*ir.Block{{Stmts: []ir.Stmt{&foreign{}}}}}}}}
	if _, err := Encode(pol); err == nil {
		t.Fatal("a statement type the codec does not know was encoded")
	}
}

func TestDecodeRefusesOtherFormatsAndDamage(t *testing.T) {
	pol := &ir.Policy{Funcs: &ir.Funcs{Funcs: []*ir.Func{{Name: "f", Params: []ir.Local{0, 1}, Return: 2,
		Blocks: []*ir.Block{{Stmts: []ir.Stmt{&ir.CallStmt{Func: "g", Args: []ir.Operand{{Value: ir.StringIndex(4)}}, Result: 2}}}}}}}}
	b, err := Encode(pol)
	if err != nil {
		t.Fatal(err)
	}
	for name, bad := range map[string][]byte{
		"empty":          nil,
		"other format":   append([]byte{format + 1}, b[1:]...),
		"cut short":      b[:len(b)-3],
		"trailing bytes": append(append([]byte{}, b...), 0),
		"huge count":     {format, 0xff, 0xff, 0xff, 0xff, 0x0f},
	} {
		if _, err := Decode(bad); err == nil {
			t.Errorf("%s: decoded without error", name)
		}
	}
}

func FuzzDecode(f *testing.F) {
	n := 0
	var stmts []ir.Stmt
	for _, s := range stmtTypes {
		stmts = append(stmts, filled(reflect.TypeOf(s).Elem(), &n))
	}
	b, err := Encode(&ir.Policy{Funcs: &ir.Funcs{Funcs: []*ir.Func{{Name: "f", Blocks: []*ir.Block{{Stmts: stmts}}}}}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(b)
	f.Add([]byte{format})
	f.Fuzz(func(t *testing.T, data []byte) {
		pol, err := Decode(data)
		if err != nil {
			return
		}
		// What decodes must encode, and decode again to the same plan (varints
		// and booleans have more than one spelling, so the bytes may differ).
		again, err := Encode(pol)
		if err != nil {
			t.Fatalf("decoded plan does not encode: %v", err)
		}
		pol2, err := Decode(again)
		if err != nil {
			t.Fatalf("re-encoded plan does not decode: %v", err)
		}
		a, _ := json.Marshal(pol.Funcs)
		b, _ := json.Marshal(pol2.Funcs)
		if string(a) != string(b) {
			t.Fatalf("plan changed in a round trip:\n%s\n%s", a, b)
		}
	})
}
