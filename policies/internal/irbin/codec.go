package irbin

import (
	"encoding/binary"
	"errors"
	"fmt"
	"reflect"

	"github.com/open-policy-agent/opa/v1/ir"
)

// structFields caches fields per struct type; it is filled in init for every
// type a plan can hold and only read afterwards, so concurrent decoding is safe.
var structFields = map[reflect.Type][]int{}

func init() {
	collect(reflect.TypeFor[ir.Func]())
	for _, s := range stmtTypes {
		collect(reflect.TypeOf(s).Elem())
	}
	for _, v := range valTypes {
		collect(reflect.TypeOf(v))
	}
}

func collect(t reflect.Type) {
	switch t.Kind() {
	case reflect.Struct:
		if _, done := structFields[t]; done {
			return
		}
		fs := fields(t)
		structFields[t] = fs
		for _, i := range fs {
			collect(t.Field(i).Type)
		}
	case reflect.Slice, reflect.Pointer, reflect.Array:
		collect(t.Elem())
	}
}

type encoder struct{ buf []byte }

func (e *encoder) uint(v uint64) { e.buf = binary.AppendUvarint(e.buf, v) }

func (e *encoder) string(s string) {
	e.uint(uint64(len(s)))
	e.buf = append(e.buf, s...)
}

func (e *encoder) value(v reflect.Value) error {
	switch v.Kind() {
	case reflect.Bool:
		b := uint64(0)
		if v.Bool() {
			b = 1
		}
		e.uint(b)
	case reflect.Int, reflect.Int32, reflect.Int64:
		e.buf = binary.AppendVarint(e.buf, v.Int())
	case reflect.Uint32:
		e.uint(v.Uint())
	case reflect.String:
		e.string(v.String())
	case reflect.Slice:
		e.uint(uint64(v.Len()))
		for i := range v.Len() {
			if err := e.value(v.Index(i)); err != nil {
				return err
			}
		}
	case reflect.Pointer:
		if v.IsNil() {
			// Only blocks are held by pointer, and a plan never leaves one out.
			return fmt.Errorf("nil %s", v.Type())
		}
		return e.value(v.Elem())
	case reflect.Interface:
		return e.iface(v)
	case reflect.Struct:
		fs, ok := structFields[v.Type()]
		if !ok {
			fs = fields(v.Type())
		}
		for _, i := range fs {
			if err := e.value(v.Field(i)); err != nil {
				return fmt.Errorf("%s.%s: %w", v.Type().Name(), v.Type().Field(i).Name, err)
			}
		}
	default:
		return fmt.Errorf("cannot store a %s", v.Type())
	}
	return nil
}

func (e *encoder) iface(v reflect.Value) error {
	if v.IsNil() {
		return fmt.Errorf("nil %s", v.Type())
	}
	c := v.Elem()
	codes := stmtCodes
	if v.Type() == valIface {
		codes = valCodes
	}
	code, ok := codes[c.Type()]
	if !ok {
		return fmt.Errorf("unknown %s type %s", v.Type(), c.Type())
	}
	e.uint(code)
	return e.value(c)
}

// decoder panics on malformed input; Decode turns the panic into an error.
type decoder struct{ buf []byte }

var errShort = errors.New("unexpected end of plan")

func (d *decoder) uint() uint64 {
	v, n := binary.Uvarint(d.buf)
	if n <= 0 {
		panic(errShort)
	}
	d.buf = d.buf[n:]
	return v
}

func (d *decoder) int() int64 {
	v, n := binary.Varint(d.buf)
	if n <= 0 {
		panic(errShort)
	}
	d.buf = d.buf[n:]
	return v
}

// len reads a count and checks it against the bytes left (every element takes
// at least one), so a corrupted count cannot allocate gigabytes.
func (d *decoder) len() int {
	n := d.uint()
	if n > uint64(len(d.buf)) {
		panic(fmt.Errorf("count %d exceeds the %d bytes left", n, len(d.buf)))
	}
	return int(n)
}

func (d *decoder) string() string {
	n := d.len()
	s := string(d.buf[:n])
	d.buf = d.buf[n:]
	return s
}

func (d *decoder) value(v reflect.Value) {
	switch v.Kind() {
	case reflect.Bool:
		v.SetBool(d.uint() != 0)
	case reflect.Int, reflect.Int32, reflect.Int64:
		v.SetInt(d.int())
	case reflect.Uint32:
		v.SetUint(d.uint())
	case reflect.String:
		v.SetString(d.string())
	case reflect.Slice:
		n := d.len()
		if n == 0 {
			// Encode cannot tell nil from empty; the planner's slices are nil
			// when empty except for blocks' statements, which nothing compares.
			return
		}
		// Grow and SetLen write the slice in place, without the type checks
		// of Set, which were a quarter of the decoding time.
		v.Grow(n)
		v.SetLen(n)
		for i := range n {
			d.value(v.Index(i))
		}
	case reflect.Pointer:
		// Blocks are the only pointers in a function.
		b := &ir.Block{}
		d.value(reflect.ValueOf(b).Elem())
		*v.Addr().Interface().(**ir.Block) = b
	case reflect.Interface:
		d.iface(v)
	case reflect.Struct:
		fs, ok := structFields[v.Type()]
		if !ok {
			fs = fields(v.Type())
		}
		for _, i := range fs {
			d.value(v.Field(i))
		}
	default:
		panic(fmt.Errorf("cannot load a %s", v.Type()))
	}
}

func (d *decoder) iface(v reflect.Value) {
	code := d.uint()
	if v.Type() == valIface {
		var x ir.Val
		switch code {
		case 0:
			x = ir.Local(d.int())
		case 1:
			x = ir.StringIndex(d.int())
		case 2:
			x = ir.Bool(d.uint() != 0)
		default:
			panic(fmt.Errorf("unknown operand type %d", code))
		}
		*v.Addr().Interface().(*ir.Val) = x
		return
	}
	if code >= uint64(len(stmtTypes)) {
		panic(fmt.Errorf("unknown statement type %d", code))
	}
	x := reflect.New(reflect.TypeOf(stmtTypes[code]).Elem())
	d.value(x.Elem())
	*v.Addr().Interface().(*ir.Stmt) = x.Interface().(ir.Stmt)
}
