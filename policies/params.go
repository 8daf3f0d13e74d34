package policies

import (
	"fmt"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
)

// defaultParams collects the parameter defaults every METADATA block declares:
// global ones on library packages and rule-specific ones on rules. Parameters share
// one flat name space so that rules can share global knobs (gpuThreshold,
// trainingFamilies, ...); two packages declaring different defaults for one name is
// an error, since the user could not tell which applies.
func defaultParams(c *ast.Compiler) (map[string]any, paramSchemas, map[string]map[string]any, error) {
	params := map[string]any{}
	schemas := paramSchemas{}
	docs := map[string]map[string]any{}
	owner := map[string]string{}
	var errs []string
	for _, entry := range c.GetAnnotationSet().Flatten() {
		a := entry.Annotations
		p, ok := a.Custom["params"].(map[string]any)
		if !ok || a.Scope != "package" {
			continue
		}
		where := a.Location.String()
		own, serrs := compileParamSchemas(where, p, a.Custom["schema"])
		errs = append(errs, serrs...)
		if raw, ok := a.Custom["schema"].(map[string]any); ok {
			schemaDocs(raw, docs)
		}
		for name, v := range p {
			if prev, dup := owner[name]; dup {
				if !equalJSON(params[name], v) {
					errs = append(errs, fmt.Sprintf("%s: parameter %q already has another default in %s", a.Location, name, prev))
				}
				continue
			}
			owner[name] = where
			params[name] = v
			if sch, ok := own[name]; ok {
				schemas[name] = sch
			}
		}
	}
	if len(errs) > 0 {
		sort.Strings(errs)
		return nil, nil, nil, fmt.Errorf("invalid parameter declarations:\n  %s", strings.Join(errs, "\n  "))
	}
	return params, schemas, docs, nil
}

// mergeParams overlays user parameters on the defaults. Unknown names and values
// that do not match the parameter's schema are errors: a misspelt parameter must
// not silently keep the default.
func mergeParams(defaults map[string]any, schemas paramSchemas, user map[string]any) (map[string]any, error) {
	out := make(map[string]any, len(defaults))
	for k, v := range defaults {
		out[k] = v
	}
	var unknown []string
	for k, v := range user {
		if _, ok := defaults[k]; !ok {
			unknown = append(unknown, k)
			continue
		}
		out[k] = v
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		return nil, fmt.Errorf("unknown parameter(s) %s: see `kgate policies` for the parameters each rule declares", strings.Join(unknown, ", "))
	}
	if err := schemas.validate(user); err != nil {
		return nil, err
	}
	return out, nil
}

func equalJSON(a, b any) bool {
	va, err1 := ast.InterfaceToValue(a)
	vb, err2 := ast.InterfaceToValue(b)
	return err1 == nil && err2 == nil && va.Compare(vb) == 0
}
