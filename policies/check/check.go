// Package check runs the engine over manifest files: the offline front end used by
// `kgate check` in pipelines.
package check

import (
	"context"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/manifest"
	"github.com/kgate-dev/kgate/policies/report"
)

// StdinName is the file name findings from standard input carry.
const StdinName = "<stdin>"

// Options select the inputs of a check run.
type Options struct {
	// Paths are files, directories (searched recursively for .yaml, .yml and
	// .json) or "-" for standard input.
	Paths []string
	Stdin io.Reader
	// Workers bounds parallel parsing and evaluation; 0 means GOMAXPROCS.
	Workers int
	// Passes also lists the rules each object passed.
	Passes bool
	// Fix applies every mutation to the parsed files (see Result.Files).
	Fix bool
	// Explain attaches to every finding the trace of its rule's evaluation and its
	// print() output (build the engine with Options.Debug to keep print calls).
	Explain bool
}

// Result is the report and the files. Only when Options.Fix is set do the files
// keep their parsed, patched documents; otherwise each file's text is released
// once it is checked, so that a run holds only the files in progress.
type Result struct {
	Report *report.Report
	Files  []*manifest.File
}

// chunksPerTask bounds the documents one worker evaluates at a time, so a single
// large stream (helm template | kgate check -) still uses every CPU.
const chunksPerTask = 64

// task is a range of document chunks of one file.
type task struct {
	file   *manifest.File
	lo, hi int
	// pending counts the tasks of the file not yet evaluated.
	pending *atomic.Int32
}

// Run checks every object of the inputs. The objects of one run form the
// inventory that referential rules (NETPOL-001, PVC → StorageClass) look at.
//
// It streams: first only the documents whose kinds referential rules read are
// parsed, to build the inventory; then every range of documents is parsed,
// evaluated and located, and (unless fixing) forgotten with the file's text once
// all its documents are checked, so memory stays bounded by the inventory and
// the findings rather than the size of the input.
func Run(ctx context.Context, e *policies.Engine, opts Options) (*Result, error) {
	workers := opts.Workers
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	rep := &report.Report{Rules: e.Rules()}
	inputs, readErrs := collect(opts)
	rep.Errors = append(rep.Errors, readErrs...)

	files := make([]*manifest.File, len(inputs))
	var tasks []task
	for i, in := range inputs {
		files[i] = manifest.Split(in.name, in.data)
		pending := new(atomic.Int32)
		for lo := 0; lo < files[i].NumChunks(); lo += chunksPerTask {
			tasks = append(tasks, task{files[i], lo, min(lo+chunksPerTask, files[i].NumChunks()), pending})
			pending.Add(1)
		}
	}

	invKinds := map[string]bool{}
	for _, k := range e.InventoryKinds() {
		invKinds[k] = true
	}
	// Unknown kind hints (JSON, flow style) and lists are parsed in this pass too:
	// they may hold inventory objects.
	// Namespaces are always read: their labels scope configured actions and their
	// annotations carry namespace-wide exemptions.
	wantInventory := func(kind string) bool {
		return kind == "" || kind == "Namespace" || invKinds[kind] || strings.HasSuffix(kind, "List")
	}
	invDocs := make([][]*manifest.Document, len(tasks))
	parallel(len(tasks), workers, func(i int) {
		t := tasks[i]
		invDocs[i], _ = t.file.ParseRange(t.lo, t.hi, wantInventory, false)
	})
	inv := policies.NewInventory()
	namespaces := map[string]*policies.Namespace{}
	for _, docs := range invDocs {
		for _, d := range docs {
			if d.Kind() == "Namespace" {
				namespaces[d.Name()] = namespaceInfo(d)
			}
			if invKinds[d.Kind()] {
				inv.Add(d.Kind(), policies.NamespaceOf(d.Kind(), d.Namespace()), d.Name(), d.Object)
			}
		}
	}
	invDocs = nil
	if err := e.SetInventory(ctx, inv); err != nil {
		return nil, err
	}

	var evalOpts []policies.EvalOption
	if opts.Passes {
		evalOpts = append(evalOpts, policies.WithScope())
	}
	parts := make([]*report.Report, len(tasks))
	objects := make([]int, len(tasks))
	parallel(len(tasks), workers, func(i int) {
		t := tasks[i]
		docs, errs := t.file.ParseRange(t.lo, t.hi, nil, opts.Fix)
		part := &report.Report{}
		for _, pe := range errs {
			doc := pe.Doc
			part.Errors = append(part.Errors, report.Error{File: pe.File, Doc: &doc, Line: pe.Line, Message: pe.Message})
		}
		for _, d := range docs {
			in := inputFor(d, namespaces)
			dec, err := e.Evaluate(ctx, in, evalOpts...)
			if err != nil {
				doc := d.Index
				part.Errors = append(part.Errors, report.Error{File: d.File, Doc: &doc, Line: d.Line, Message: err.Error()})
				continue
			}
			var explained map[string]*policies.Explanation
			if opts.Explain {
				explained = explain(ctx, e, in, dec)
			}
			addFindings(part, d, dec, opts.Passes, explained)
			if opts.Fix && len(dec.Patch) > 0 {
				if err := d.ApplyPatch(dec.Patch); err != nil {
					doc := d.Index
					part.Errors = append(part.Errors, report.Error{File: d.File, Doc: &doc, Line: d.Line, Message: fmt.Sprintf("apply fix: %v", err)})
				}
			}
		}
		parts[i], objects[i] = part, len(docs)
		if !opts.Fix && t.pending.Add(-1) == 0 {
			// Nothing reads the file again: free its text for the files to come.
			t.file.Release()
		}
	})
	merge(rep, parts)
	total := 0
	for _, n := range objects {
		total += n
	}
	rep.Finish(total)
	return &Result{Report: rep, Files: files}, nil
}

// merge appends the parts to the report. The slices are allocated at their
// final size and each part is dropped once copied: a large run's findings are
// what is left in memory when the report is written, the run's peak.
func merge(rep *report.Report, parts []*report.Report) {
	var findings, errs, passes int
	for _, part := range parts {
		findings += len(part.Findings)
		errs += len(part.Errors)
		passes += len(part.Passes)
	}
	rep.Findings = slices.Grow(rep.Findings, findings)
	rep.Errors = slices.Grow(rep.Errors, errs)
	rep.Passes = slices.Grow(rep.Passes, passes)
	for i, part := range parts {
		rep.Findings = append(rep.Findings, part.Findings...)
		rep.Errors = append(rep.Errors, part.Errors...)
		rep.Passes = append(rep.Passes, part.Passes...)
		parts[i] = nil
	}
}

func inputFor(d *manifest.Document, namespaces map[string]*policies.Namespace) *policies.Input {
	group, version := "", d.APIVersion()
	if i := strings.Index(version, "/"); i >= 0 {
		group, version = version[:i], version[i+1:]
	}
	in := &policies.Input{
		Operation: "CREATE",
		Kind:      policies.GVK{Group: group, Version: version, Kind: d.Kind()},
		Namespace: policies.NamespaceOf(d.Kind(), d.Namespace()),
		Name:      d.Name(),
		Object:    d.Object,
	}
	switch {
	case d.Kind() == "Namespace":
		// A Namespace is scoped by its own labels.
		in.NamespaceInfo = namespaceInfo(d)
	case in.Namespace != "":
		in.NamespaceInfo = namespaces[in.Namespace]
		if in.NamespaceInfo == nil {
			// Not in the run: overrides by name still apply.
			in.NamespaceInfo = &policies.Namespace{Name: in.Namespace}
		}
	}
	return in
}

// namespaceInfo reads the labels and annotations of a Namespace document.
func namespaceInfo(d *manifest.Document) *policies.Namespace {
	return policies.NamespaceOfObject(d.Name(), d.Object)
}

// explain traces every rule that reported on the object; a failure to explain
// is shown in place of the trace rather than failing the run.
func explain(ctx context.Context, e *policies.Engine, in *policies.Input, dec *policies.Decision) map[string]*policies.Explanation {
	out := map[string]*policies.Explanation{}
	for _, f := range dec.Findings {
		if _, done := out[f.RuleID]; done {
			continue
		}
		x, err := e.Explain(ctx, in, f.RuleID)
		if err != nil {
			x = &policies.Explanation{RuleID: f.RuleID, Trace: []string{"explain failed: " + err.Error()}}
		}
		out[f.RuleID] = x
	}
	return out
}

func addFindings(rep *report.Report, d *manifest.Document, dec *policies.Decision, passes bool, explained map[string]*policies.Explanation) {
	var itemp *int
	if d.Item >= 0 {
		it := d.Item
		itemp = &it
	}
	ns := policies.NamespaceOf(d.Kind(), d.Namespace())
	failed := map[string]bool{}
	for _, f := range dec.Findings {
		failed[f.RuleID] = true
		patch := f.Patch
		if patch == nil {
			patch = []policies.PatchOp{}
		}
		rep.Findings = append(rep.Findings, report.Finding{
			Rule: f.RuleID, Action: f.Action, Severity: f.Severity,
			File: d.File, Doc: d.Index, Item: itemp, Line: d.LineOf(f.Path),
			Kind: d.Kind(), APIVersion: d.APIVersion(), Namespace: ns, Name: d.Name(),
			Path: f.Path, Message: f.Message, Fix: f.Fix, Patch: patch,
			Exemption: f.Exemption, DryRun: f.DryRun, Note: f.Note,
			Explain: explained[f.RuleID],
		})
	}
	if !passes {
		return
	}
	for _, id := range dec.InScope {
		if !failed[id] {
			rep.Passes = append(rep.Passes, report.Pass{Rule: id, File: d.File, Doc: d.Index, Item: itemp, Kind: d.Kind(), Namespace: ns, Name: d.Name()})
		}
	}
}

// parallel runs fn for 0..n-1 on at most workers goroutines.
func parallel(n, workers int, fn func(int)) {
	if workers > n {
		workers = n
	}
	var wg sync.WaitGroup
	next := make(chan int)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				fn(i)
			}
		}()
	}
	for i := 0; i < n; i++ {
		next <- i
	}
	close(next)
	wg.Wait()
}
