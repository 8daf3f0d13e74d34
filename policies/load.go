package policies

import (
	"fmt"
	"io/fs"
	"os"
	"path"
	"runtime"
	"strings"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	builtin "github.com/kgate-dev/kgate/rego"
)

// source is a tree of Rego files and the name its files are reported under.
type source struct {
	fsys fs.FS
	// prefix is prepended to file paths in locations, so errors name a path the
	// user can open (e.g. "rego/storage/ebs_gp3_not_gp2.rego" or the user's directory).
	prefix string
	// tests includes the source's *_test.rego files.
	tests bool
}

func sources(dirs []string) ([]source, error) {
	srcs := []source{{fsys: builtin.FS, prefix: "rego"}}
	for _, d := range dirs {
		st, err := os.Stat(d)
		if err != nil {
			return nil, fmt.Errorf("policy directory %s: %w", d, err)
		}
		if !st.IsDir() {
			return nil, fmt.Errorf("policy directory %s: not a directory", d)
		}
		srcs = append(srcs, source{fsys: os.DirFS(d), prefix: d})
	}
	return srcs, nil
}

// loadModules parses every .rego file of the sources as Rego v1 with METADATA
// processing, on every CPU: parsing is a fifth of the engine's start-up, which
// every kgate check run pays. Test files are included only when tests is true,
// so that the admission path never compiles them.
func loadModules(srcs []source) (map[string]*ast.Module, error) {
	type file struct {
		name string
		text []byte
		mod  *ast.Module
		err  error
	}
	var files []*file
	for _, src := range srcs {
		err := fs.WalkDir(src.fsys, ".", func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			// A ConfigMap volume keeps its files in ..<timestamp> directories
			// behind symlinks; loading both would declare every package twice.
			if d.IsDir() && p != "." && strings.HasPrefix(d.Name(), "..") {
				return fs.SkipDir
			}
			if d.IsDir() || !strings.HasSuffix(p, ".rego") {
				return nil
			}
			if !src.tests && strings.HasSuffix(p, "_test.rego") {
				return nil
			}
			b, err := fs.ReadFile(src.fsys, p)
			if err != nil {
				return fmt.Errorf("read policy %s: %w", path.Join(src.prefix, p), err)
			}
			files = append(files, &file{name: path.Join(src.prefix, p), text: b})
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("load policies from %s: %w", src.prefix, err)
		}
	}
	var wg sync.WaitGroup
	next := make(chan *file)
	for range runtime.GOMAXPROCS(0) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for f := range next {
				f.mod, f.err = ast.ParseModuleWithOpts(f.name, string(f.text), ast.ParserOptions{
					ProcessAnnotation: true,
					RegoVersion:       ast.RegoV1,
				})
			}
		}()
	}
	for _, f := range files {
		next <- f
	}
	close(next)
	wg.Wait()
	modules := map[string]*ast.Module{}
	var errs []string
	for _, f := range files {
		if f.err != nil {
			errs = append(errs, f.err.Error())
			continue
		}
		modules[f.name] = f.mod
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("parse policies:\n  %s", strings.Join(errs, "\n  "))
	}
	return modules, nil
}

// compile compiles the modules once; every prepared query of the engine shares the
// result.
func compile(modules map[string]*ast.Module, keepPrint bool) (*ast.Compiler, error) {
	c := ast.NewCompiler().
		WithEnablePrintStatements(keepPrint).
		WithDefaultRegoVersion(ast.RegoV1)
	c.Compile(modules)
	if c.Failed() {
		return nil, fmt.Errorf("compile policies: %w", c.Errors)
	}
	return c, nil
}

// library is a loaded and compiled policy set with its parameter defaults.
type library struct {
	modules  map[string]*ast.Module
	compiler *ast.Compiler
	defaults map[string]any
	schemas  paramSchemas
	docs     map[string]map[string]any
}

// loadLibrary loads the built-in rules and the given directories, compiles them
// and collects the parameter defaults. Test files are loaded from the built-in
// library when builtinTests is set and from the directories when dirTests is set.
// print() calls are compiled away unless keepPrint is set.
func loadLibrary(dirs []string, builtinTests, dirTests, keepPrint bool) (*library, error) {
	srcs, err := sources(dirs)
	if err != nil {
		return nil, err
	}
	for i := range srcs {
		srcs[i].tests = dirTests
	}
	srcs[0].tests = builtinTests
	modules, err := loadModules(srcs)
	if err != nil {
		return nil, err
	}
	c, err := compile(modules, keepPrint)
	if err != nil {
		return nil, err
	}
	defaults, schemas, docs, err := defaultParams(c)
	if err != nil {
		return nil, err
	}
	return &library{modules: modules, compiler: c, defaults: defaults, schemas: schemas, docs: docs}, nil
}
