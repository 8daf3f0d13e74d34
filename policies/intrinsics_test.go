package policies

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/rego"
)

// TestIntrinsicsMatchRego calls each Go intrinsic and its Rego definition in the
// built-in library (through topdown) on the same arguments, including nulls,
// missing keys, non-objects and sets.
func TestIntrinsicsMatchRego(t *testing.T) {
	lib, err := loadLibrary(nil, false, false, false)
	if err != nil {
		t.Fatal(err)
	}
	values := []string{`{"a": 1, "b": null, "c": {"d": [1]}}`, `{}`, `null`, `"a"`, `1`, `[1, 2]`, `{"a", "b"}`, `{1: "x"}`}
	keys := []string{`"a"`, `"b"`, `"c"`, `"z"`, `1`}
	defaults := []string{`"dflt"`, `null`, `{}`}
	var cases [][]string
	for _, v := range values {
		for _, k := range keys {
			for _, d := range defaults {
				cases = append(cases, []string{"get", v, k, d})
			}
		}
		for _, d := range defaults {
			cases = append(cases, []string{"nn", v, d})
		}
		cases = append(cases, []string{"object_or_empty", v})
	}
	images := []string{`"nginx"`, `"nginx:1.27"`, `"docker.io/library/nginx@sha256:abc"`, `"localhost/x"`, `"localhost:5000/team/x:y"`,
		`"111122223333.dkr.ecr.us-west-2.amazonaws.com/rag:1.0"`, `"111122223333.dkr-ecr.eu-central-1.on.aws/x"`,
		`"111122223333.dkr.ecr-fips.us-gov-west-1.amazonaws.com/x@sha256:1"`, `"Index.Docker.IO/x"`, `"registry-1.docker.io/a/b"`,
		`"a/b/c:d@sha256:1"`, `"registry:5000/x"`, `"team/app:v2"`, `""`, `":"`, `"@"`, `"/"`, `"x@y@z"`, `"a:b:c/d:e:f"`,
		`"ÄÖ.de/é:ü@ß"`, `"public.ecr.aws/nginx/nginx:1"`, `1`, `null`, `["x"]`}
	for _, img := range images {
		for _, f := range []string{"digest", "name_part", "host", "tag", "ecr_region"} {
			cases = append(cases, []string{"image_ref." + f, img})
		}
	}
	for _, c := range cases {
		name, args := c[0], c[1:]
		call := fmt.Sprintf("data.kgate.lib.%s(%s)", name, strings.Join(args, ", "))
		if strings.HasPrefix(name, "image_ref.") {
			// Through json.unmarshal, so that the type checker lets a number or null
			// reach a function declared for strings, as input can at run time.
			call = fmt.Sprintf("data.kgate.lib.%s(json.unmarshal(%q))", name, args[0])
		}
		rs, err := rego.New(rego.Query("x := "+call), rego.Compiler(lib.compiler)).Eval(context.Background())
		if err != nil {
			t.Fatalf("%s: %v", call, err)
		}
		var want ast.Value
		if len(rs) == 1 {
			if want, err = ast.InterfaceToValue(rs[0].Bindings["x"]); err != nil {
				t.Fatal(err)
			}
		}
		terms := make([]*ast.Term, len(args))
		for i, a := range args {
			terms[i] = ast.MustParseTerm(a)
		}
		got := intrinsics["g0.data.kgate.lib."+name](terms)
		switch {
		case want == nil && got == nil:
		case want == nil || got == nil:
			t.Errorf("%s: Rego %v, Go %v", call, want, got)
		default:
			g, err := ast.JSON(got.Value)
			if err != nil {
				t.Fatal(err)
			}
			gv, _ := ast.InterfaceToValue(g)
			if want.Compare(gv) != 0 {
				t.Errorf("%s: Rego %v, Go %v", call, want, got)
			}
		}
	}
	t.Logf("%d calls compared", len(cases))
}
