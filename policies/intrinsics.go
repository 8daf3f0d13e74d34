package policies

import (
	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/kgate-dev/kgate/policies/internal/vm"
)

// intrinsics are Go versions of the shared library's smallest and most called
// functions (rego/lib/lib.rego): lib.get alone is a tenth of the statements a
// typical workload executes. Topdown, kgate test and explain still run the Rego
// definitions; TestIntrinsicsMatchRego and the engine-wide comparison of both
// evaluators keep them equal.
var intrinsics = withImageIntrinsics(map[string]vm.Intrinsic{
	// get(o, key, default_value) := value if { is_object(o); value := o[key]; value != null } else := default_value
	"g0.data.kgate.lib.get": func(args []*ast.Term) *ast.Term {
		if o, ok := args[0].Value.(ast.Object); ok {
			if v := o.Get(args[1]); v != nil && !isNull(v) {
				return v
			}
		}
		return args[2]
	},
	// nn(x, d) := x if x != null else := d
	"g0.data.kgate.lib.nn": func(args []*ast.Term) *ast.Term {
		if !isNull(args[0]) {
			return args[0]
		}
		return args[1]
	},
	// object_or_empty(x) := x if is_object(x) else := {}
	"g0.data.kgate.lib.object_or_empty": func(args []*ast.Term) *ast.Term {
		if _, ok := args[0].Value.(ast.Object); ok {
			return args[0]
		}
		return emptyObject
	},
})

var emptyObject = ast.ObjectTerm()

func isNull(t *ast.Term) bool {
	_, ok := t.Value.(ast.Null)
	return ok
}

func withImageIntrinsics(m map[string]vm.Intrinsic) map[string]vm.Intrinsic {
	for name, f := range imageIntrinsics {
		m[name] = f
	}
	return m
}
