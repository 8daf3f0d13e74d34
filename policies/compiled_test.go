package policies

import (
	"bytes"
	"context"
	"flag"
	"os"
	"reflect"
	"testing"
)

var update = flag.Bool("update", false, "rewrite golden and generated files")

// TestCompiledLibraryIsCurrent fails when compiled/ was not regenerated after
// the built-in Rego changed; -update (make generate) rewrites it.
func TestCompiledLibraryIsCurrent(t *testing.T) {
	b, err := buildFromSources(context.Background(), nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	meta, plan, err := encodeCompiled(b)
	if err != nil {
		t.Fatal(err)
	}
	if *update {
		if err := os.WriteFile("compiled/library.json", meta, 0o644); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile("compiled/library.plan", plan, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(meta, compiledMeta) || !bytes.Equal(plan, compiledPlan) {
		t.Fatal("policies/compiled/ is stale: run `make generate` (go test ./policies -run TestCompiledLibraryIsCurrent -update) and commit the result")
	}
}

// TestCompiledLibraryMatchesSources checks that an engine built from the
// compiled library knows the same rules, parameters and schemas as one compiled
// from the Rego now; TestPlannedMatchesTopdown checks its decisions.
func TestCompiledLibraryMatchesSources(t *testing.T) {
	fromFiles, err := loadCompiled()
	if err != nil {
		t.Fatal(err)
	}
	if fromFiles == nil {
		t.Fatal("the compiled library was written from other sources: run `make generate`")
	}
	fromSources, err := buildFromSources(context.Background(), nil, false, true)
	if err != nil {
		t.Fatal(err)
	}
	if len(fromFiles.rules) != len(fromSources.rules) {
		t.Fatalf("%d rules from files, %d from sources", len(fromFiles.rules), len(fromSources.rules))
	}
	for i, want := range fromSources.rules {
		got := fromFiles.rules[i]
		if !got.pkg.Equal(want.pkg) {
			t.Errorf("rule %s: package %v from files, %v from sources", want.ID, got.pkg, want.pkg)
		}
		// Refs carry parser locations, which the files do not keep.
		g, w := *got, *want
		g.pkg, w.pkg = nil, nil
		if !reflect.DeepEqual(g, w) {
			t.Errorf("rule %s differs:\n files:   %#v\n sources: %#v", want.ID, g, w)
		}
	}
	if !reflect.DeepEqual(fromFiles.defaults, fromSources.defaults) {
		t.Errorf("defaults differ:\n files:   %v\n sources: %v", fromFiles.defaults, fromSources.defaults)
	}
	if !reflect.DeepEqual(fromFiles.docs, fromSources.docs) {
		t.Errorf("parameter schemas differ:\n files:   %v\n sources: %v", fromFiles.docs, fromSources.docs)
	}
	if len(fromFiles.schemas) != len(fromSources.schemas) {
		t.Errorf("%d compiled schemas from files, %d from sources", len(fromFiles.schemas), len(fromSources.schemas))
	}
}
