package policies

import (
	"fmt"
	"sort"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
	"golang.org/x/text/language"
	"golang.org/x/text/message"
)

var english = message.NewPrinter(language.English)

// paramSchemas holds the compiled JSON schema of every declared parameter. Each
// METADATA block that declares params also declares custom.schema with one JSON
// schema per parameter, so that a wrong type in the configuration is an error at
// load time instead of a rule that silently never matches.
type paramSchemas map[string]*jsonschema.Schema

// ParamSchemas returns the JSON schema declared for every parameter, as written in
// METADATA (type, description, bounds), for documentation and `kgate explain`.
func (e *Engine) ParamSchemas() map[string]map[string]any { return e.schemaDocs }

// schemaDocs collects the raw schema of each parameter from the METADATA blocks.
func schemaDocs(blocks map[string]any, into map[string]map[string]any) {
	for name, doc := range blocks {
		if m, ok := doc.(map[string]any); ok {
			if _, dup := into[name]; !dup {
				into[name] = m
			}
		}
	}
}

// compileParamSchemas compiles the schema map of one METADATA block and checks
// that it covers exactly the declared parameters and accepts their defaults.
// where names the block in errors (file:line).
func compileParamSchemas(where string, params map[string]any, raw any) (paramSchemas, []string) {
	var errs []string
	schemas, ok := raw.(map[string]any)
	if raw != nil && !ok {
		return nil, []string{fmt.Sprintf("%s: custom.schema must map each parameter to a JSON schema", where)}
	}
	out := paramSchemas{}
	for _, name := range sortedKeys(params) {
		s, present := schemas[name]
		if !present {
			errs = append(errs, fmt.Sprintf("%s: parameter %q has no JSON schema under custom.schema", where, name))
			continue
		}
		sch, err := compileSchema(name, s)
		if err != nil {
			errs = append(errs, fmt.Sprintf("%s: %v", where, err))
			continue
		}
		if err := sch.Validate(jsonValue(params[name])); err != nil {
			errs = append(errs, fmt.Sprintf("%s: default of %q does not match its schema: %s", where, name, schemaError(err)))
			continue
		}
		out[name] = sch
	}
	for name := range schemas {
		if _, declared := params[name]; !declared {
			errs = append(errs, fmt.Sprintf("%s: custom.schema describes %q, which custom.params does not declare", where, name))
		}
	}
	return out, errs
}

func compileSchema(name string, doc any) (*jsonschema.Schema, error) {
	c := jsonschema.NewCompiler()
	url := "kgate:///" + name
	if err := c.AddResource(url, doc); err != nil {
		return nil, fmt.Errorf("schema of %q: %w", name, err)
	}
	sch, err := c.Compile(url)
	if err != nil {
		return nil, fmt.Errorf("schema of %q: %w", name, err)
	}
	return sch, nil
}

// compileSchemaDocs compiles schemas already checked against their parameters
// (those of the compiled library).
func compileSchemaDocs(docs map[string]map[string]any) (paramSchemas, error) {
	out := make(paramSchemas, len(docs))
	for name, doc := range docs {
		sch, err := compileSchema(name, doc)
		if err != nil {
			return nil, err
		}
		out[name] = sch
	}
	return out, nil
}

// validate checks user values against the schemas; every error names the parameter.
func (s paramSchemas) validate(user map[string]any) error {
	var errs []string
	for _, name := range sortedKeys(user) {
		sch, ok := s[name]
		if !ok {
			continue
		}
		if err := sch.Validate(jsonValue(user[name])); err != nil {
			errs = append(errs, fmt.Sprintf("parameter %s: %s", name, schemaError(err)))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("invalid parameters:\n  %s", strings.Join(errs, "\n  "))
	}
	return nil
}

// jsonValue converts YAML/JSON-decoded Go values to the shapes the schema library
// expects: it accepts map[string]any, []any, string, bool, nil, float64 and
// json.Number-like numbers, but not Go ints.
func jsonValue(v any) any {
	return mapJSON(v, func(x any) any {
		switch t := x.(type) {
		case int:
			return float64(t)
		case int64:
			return float64(t)
		case int32:
			return float64(t)
		case uint64:
			return float64(t)
		}
		return x
	})
}

// schemaError flattens the library's nested error into one line per cause.
func schemaError(err error) string {
	ve, ok := err.(*jsonschema.ValidationError)
	if !ok {
		return err.Error()
	}
	var leaves []string
	var walk func(e *jsonschema.ValidationError)
	walk = func(e *jsonschema.ValidationError) {
		if len(e.Causes) == 0 {
			loc := "/" + strings.Join(e.InstanceLocation, "/")
			leaves = append(leaves, fmt.Sprintf("at %s: %s", loc, strings.TrimPrefix(e.ErrorKind.LocalizedString(english), "jsonschema: ")))
			return
		}
		for _, c := range e.Causes {
			walk(c)
		}
	}
	walk(ve)
	return strings.Join(leaves, "; ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
