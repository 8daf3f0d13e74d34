package policies

import (
	"bytes"
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io/fs"
	"sort"
	"strings"

	"github.com/open-policy-agent/opa/v1/ast"
	"github.com/open-policy-agent/opa/v1/ir"
	opaversion "github.com/open-policy-agent/opa/v1/version"

	"github.com/kgate-dev/kgate/policies/internal/irbin"
	builtin "github.com/kgate-dev/kgate/rego"
)

// The built-in library ships planned: compiled/library.json holds what the
// compiler reads from the METADATA blocks and compiled/library.plan the plan of
// every rule. Building an engine from them takes milliseconds instead of the
// half second that parsing, compiling and planning the Rego costs, which every
// `kgate check` run paid before checking anything. `make generate` (the
// -update flag of TestCompiledLibraryIsCurrent) writes them; the test fails when
// they differ from what the Rego gives.
var (
	//go:embed compiled/library.json
	compiledMeta []byte
	//go:embed compiled/library.plan
	compiledPlan []byte
)

// compiledFormat changes whenever the files' shape or the planning query does.
const compiledFormat = "kgate-compiled-1"

// compiledLibrary is compiled/library.json.
type compiledLibrary struct {
	// Source digests the library's Rego files, the OPA version that planned them
	// and compiledFormat; files of another source are ignored.
	Source   string                    `json:"source"`
	Rules    []compiledRule            `json:"rules"`
	Defaults map[string]any            `json:"defaults"`
	Schemas  map[string]map[string]any `json:"schemas"`
}

type compiledRule struct {
	*Rule
	HasPatch   bool `json:"hasPatch,omitempty"`
	HasApplies bool `json:"hasApplies,omitempty"`
}

// built is a policy set ready for an engine: from the compiled library or
// compiled from sources now.
type built struct {
	rules    []*Rule
	defaults map[string]any
	schemas  paramSchemas
	docs     map[string]map[string]any
	// compiler is nil for the compiled library.
	compiler *ast.Compiler
	// pol is the plan; nil when the engine evaluates with topdown.
	pol *ir.Policy
}

// buildFromSources parses and compiles the built-in library and the
// directories, and plans them unless the engine evaluates with topdown.
func buildFromSources(ctx context.Context, dirs []string, keepPrint, planned bool) (*built, error) {
	lib, err := loadLibrary(dirs, false, false, keepPrint)
	if err != nil {
		return nil, err
	}
	rules, err := rulesFromCompiler(lib.compiler)
	if err != nil {
		return nil, err
	}
	b := &built{rules: rules, defaults: lib.defaults, schemas: lib.schemas, docs: lib.docs, compiler: lib.compiler}
	if planned {
		if b.pol, err = planIR(ctx, lib.compiler, newStore(lib.defaults), rules); err != nil {
			return nil, err
		}
	}
	return b, nil
}

// loadCompiled returns the compiled built-in library, or nil when its files
// were written from other Rego sources (a library edited without `make generate`:
// the engine then compiles the sources, and the tests fail).
func loadCompiled() (*built, error) {
	var lib compiledLibrary
	dec := json.NewDecoder(bytes.NewReader(compiledMeta))
	dec.UseNumber()
	if err := dec.Decode(&lib); err != nil {
		return nil, fmt.Errorf("load compiled library: %w", err)
	}
	src, err := librarySource()
	if err != nil {
		return nil, err
	}
	if lib.Source != src {
		return nil, nil
	}
	pol, err := irbin.Decode(compiledPlan)
	if err != nil {
		return nil, fmt.Errorf("load compiled library: %w", err)
	}
	b := &built{defaults: yamlNumbers(lib.Defaults).(map[string]any), pol: pol}
	for _, cr := range lib.Rules {
		r := cr.Rule
		if r.pkg, err = ast.ParseRef(r.Package); err != nil {
			return nil, fmt.Errorf("load compiled library: rule %s: %w", r.ID, err)
		}
		r.hasPatch, r.hasApplies = cr.HasPatch, cr.HasApplies
		if r.Params != nil {
			r.Params = yamlNumbers(r.Params).(map[string]any)
		}
		if r.Schema != nil {
			r.Schema = yamlNumbers(r.Schema).(map[string]any)
		}
		b.rules = append(b.rules, r)
	}
	b.docs = yamlNumbers(lib.Schemas).(map[string]map[string]any)
	if b.schemas, err = compileSchemaDocs(b.docs); err != nil {
		return nil, fmt.Errorf("load compiled library: %w", err)
	}
	return b, nil
}

// encodeCompiled writes the two files of the compiled library from a library
// built from sources.
func encodeCompiled(b *built) (meta, plan []byte, err error) {
	src, err := librarySource()
	if err != nil {
		return nil, nil, err
	}
	lib := compiledLibrary{Source: src, Defaults: b.defaults, Schemas: b.docs}
	for _, r := range b.rules {
		lib.Rules = append(lib.Rules, compiledRule{Rule: r, HasPatch: r.hasPatch, HasApplies: r.hasApplies})
	}
	if meta, err = json.MarshalIndent(lib, "", "  "); err != nil {
		return nil, nil, fmt.Errorf("encode compiled library: %w", err)
	}
	if plan, err = irbin.Encode(b.pol); err != nil {
		return nil, nil, err
	}
	return append(meta, '\n'), plan, nil
}

// librarySource digests the Rego files the engine compiles from the built-in
// library (tests excluded), with the OPA version and compiledFormat.
func librarySource() (string, error) {
	var names []string
	err := fs.WalkDir(builtin.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() && strings.HasSuffix(p, ".rego") && !strings.HasSuffix(p, "_test.rego") {
			names = append(names, p)
		}
		return err
	})
	if err != nil {
		return "", fmt.Errorf("digest built-in library: %w", err)
	}
	sort.Strings(names)
	h := sha256.New()
	fmt.Fprintf(h, "%s\x00opa %s\x00", compiledFormat, opaversion.Version)
	for _, n := range names {
		b, err := fs.ReadFile(builtin.FS, n)
		if err != nil {
			return "", fmt.Errorf("digest built-in library: %w", err)
		}
		fmt.Fprintf(h, "%s\x00%d\x00", n, len(b))
		h.Write(b)
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), nil
}

// yamlNumbers gives JSON-decoded numbers the Go types METADATA blocks produce
// (YAML decoding): int when integral, float64 otherwise.
func yamlNumbers(v any) any {
	switch t := v.(type) {
	case json.Number:
		if i, err := t.Int64(); err == nil && !strings.ContainsAny(string(t), ".eE") {
			return int(i)
		}
		f, _ := t.Float64()
		return f
	case map[string]any:
		for k, x := range t {
			t[k] = yamlNumbers(x)
		}
	case map[string]map[string]any:
		for k, x := range t {
			t[k] = yamlNumbers(x).(map[string]any)
		}
	case []any:
		for i, x := range t {
			t[i] = yamlNumbers(x)
		}
	}
	return v
}
