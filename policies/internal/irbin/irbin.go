// Package irbin stores an OPA IR plan in a compact binary form that loads in
// milliseconds. kgate ships the plan of its built-in library in this form, so a
// `kgate check` run does not parse, compile and plan the library first: that took
// half a second, more than checking a repository of manifests. OPA's own JSON
// form of the same plan is five times larger and slower to decode than planning.
//
// Only what kgate's evaluator reads is kept: the string constants and the
// functions (name, parameters, return local, blocks, data path) with every
// statement and its location. Plans, built-in declarations, file names and
// unplanned rules are dropped.
package irbin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/open-policy-agent/opa/v1/ir"
)

// format changes whenever the encoding does; a file of another format is refused.
const format = 1

// stmtTypes are the statement types in the order their codes are assigned. New
// types go at the end, with a new format.
var stmtTypes = []ir.Stmt{
	&ir.ReturnLocalStmt{}, &ir.CallStmt{}, &ir.CallDynamicStmt{}, &ir.BlockStmt{},
	&ir.BreakStmt{}, &ir.DotStmt{}, &ir.LenStmt{}, &ir.ScanStmt{}, &ir.NotStmt{},
	&ir.AssignIntStmt{}, &ir.AssignVarStmt{}, &ir.AssignVarOnceStmt{}, &ir.ResetLocalStmt{},
	&ir.MakeNullStmt{}, &ir.MakeNumberIntStmt{}, &ir.MakeNumberRefStmt{}, &ir.MakeArrayStmt{},
	&ir.MakeObjectStmt{}, &ir.MakeSetStmt{}, &ir.EqualStmt{}, &ir.NotEqualStmt{},
	&ir.IsArrayStmt{}, &ir.IsObjectStmt{}, &ir.IsSetStmt{}, &ir.IsDefinedStmt{},
	&ir.IsUndefinedStmt{}, &ir.ArrayAppendStmt{}, &ir.ObjectInsertStmt{},
	&ir.ObjectInsertOnceStmt{}, &ir.ObjectMergeStmt{}, &ir.SetAddStmt{}, &ir.WithStmt{},
	&ir.NopStmt{}, &ir.ResultSetAddStmt{},
}

// valTypes are the operand value types, coded likewise.
var valTypes = []ir.Val{ir.Local(0), ir.StringIndex(0), ir.Bool(false)}

var (
	stmtCodes = map[reflect.Type]uint64{}
	valCodes  = map[reflect.Type]uint64{}
	valIface  = reflect.TypeFor[ir.Val]()
)

func init() {
	for i, s := range stmtTypes {
		stmtCodes[reflect.TypeOf(s)] = uint64(i)
	}
	for i, v := range valTypes {
		valCodes[reflect.TypeOf(v)] = uint64(i)
	}
}

// Encode writes the parts of pol that kgate evaluates.
func Encode(pol *ir.Policy) ([]byte, error) {
	if pol == nil || pol.Funcs == nil {
		return nil, errors.New("encode plan: no functions")
	}
	e := &encoder{buf: binary.AppendUvarint(nil, format)}
	var strs []string
	if pol.Static != nil {
		for _, s := range pol.Static.Strings {
			strs = append(strs, s.Value)
		}
	}
	e.uint(uint64(len(strs)))
	for _, s := range strs {
		e.string(s)
	}
	e.uint(uint64(len(pol.Funcs.Funcs)))
	for _, f := range pol.Funcs.Funcs {
		if err := e.value(reflect.ValueOf(f).Elem()); err != nil {
			return nil, fmt.Errorf("encode plan of %s: %w", f.Name, err)
		}
	}
	return e.buf, nil
}

// Decode reads a plan written by Encode. A file of another format, or one cut
// short or corrupted, is an error, never a panic.
func Decode(b []byte) (pol *ir.Policy, err error) {
	d := &decoder{buf: b}
	defer func() {
		if r := recover(); r != nil {
			pol, err = nil, fmt.Errorf("decode plan at byte %d: %v", len(b)-len(d.buf), r)
		}
	}()
	if f := d.uint(); f != format {
		return nil, fmt.Errorf("decode plan: format %d, want %d", f, format)
	}
	n := d.len()
	static := &ir.Static{Strings: make([]*ir.StringConst, n)}
	for i := range static.Strings {
		static.Strings[i] = &ir.StringConst{Value: d.string()}
	}
	funcs := make([]*ir.Func, d.len())
	for i := range funcs {
		funcs[i] = &ir.Func{}
		d.value(reflect.ValueOf(funcs[i]).Elem())
	}
	if len(d.buf) != 0 {
		return nil, fmt.Errorf("decode plan: %d bytes after the last function", len(d.buf))
	}
	return &ir.Policy{Static: static, Funcs: &ir.Funcs{Funcs: funcs}}, nil
}

// fields lists the fields of a struct type that are stored: exported ones not
// tagged json:"-" (Location.Text is for debug printing only).
func fields(t reflect.Type) []int {
	var out []int
	for i := range t.NumField() {
		f := t.Field(i)
		if f.IsExported() && f.Tag.Get("json") != "-" {
			out = append(out, i)
		}
	}
	return out
}
