// Package audit evaluates the objects of a live cluster with the engine: the same
// rules and configuration as the webhook, with operation AUDIT and the cluster's
// objects as inventory. It lists in pages and evaluates page by page, so memory
// is bounded by the inventory kinds and the findings, not by the cluster's size.
package audit

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/kgate-dev/kgate/policies"
	"github.com/kgate-dev/kgate/policies/report"
)

// Options narrow an audit.
type Options struct {
	// Namespace limits namespaced objects to one namespace ("" = all); cluster-
	// scoped objects are skipped when it is set, except that Namespace.
	Namespace string
	// Rules keeps only the findings of these rule IDs (empty = all).
	Rules []string
	// Kinds evaluates only objects of these kinds (empty = every kind a rule reads).
	Kinds []string
	// PageSize is the list page size (default 500).
	PageSize int64
	// Passes also records the rules each object passed.
	Passes bool
	// Progress, when set, is told about each kind as it is listed and evaluated.
	Progress func(kind string, done, total, objects int)
}

// Run audits the cluster cfg points at.
func Run(ctx context.Context, cfg *rest.Config, e *policies.Engine, opts Options) (*report.Report, error) {
	if opts.PageSize <= 0 {
		opts.PageSize = 500
	}
	// An audit lists a few dozen kinds one after the other: client-go's default
	// rate limit (5 requests/s) would make it wait, not the API server.
	cfg = rest.CopyConfig(cfg)
	cfg.QPS, cfg.Burst = 50, 100
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	dc, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("audit: %w", err)
	}
	evalKinds := map[string]bool{}
	for _, r := range e.Rules() {
		for _, k := range r.Kinds {
			if k != "*" && (len(opts.Kinds) == 0 || slices.Contains(opts.Kinds, k)) {
				evalKinds[k] = true
			}
		}
	}
	invKinds := map[string]bool{"Namespace": true}
	for _, k := range e.InventoryKinds() {
		invKinds[k] = true
	}
	all := map[string]bool{}
	for k := range evalKinds {
		all[k] = true
	}
	for k := range invKinds {
		all[k] = true
	}
	res, err := resources(dc, all)
	if err != nil {
		return nil, err
	}

	rep := &report.Report{Rules: e.Rules(), Live: true}
	l := &lister{dyn: dyn, pageSize: opts.PageSize}
	// Pass 1: the inventory (whole cluster, whatever --namespace says: a rule
	// about one namespace may read cluster-scoped objects).
	inv := policies.NewInventory()
	namespaces := map[string]*policies.Namespace{}
	kept := map[string][]*unstructured.Unstructured{}
	for _, kind := range slices.Sorted(maps.Keys(invKinds)) {
		r, ok := res[kind]
		if !ok {
			continue
		}
		err := l.list(ctx, r, "", func(u *unstructured.Unstructured) {
			inv.Add(kind, policies.NamespaceOf(kind, u.GetNamespace()), u.GetName(), u.Object)
			if kind == "Namespace" {
				namespaces[u.GetName()] = &policies.Namespace{Name: u.GetName(), Labels: u.GetLabels(), Annotations: u.GetAnnotations()}
			}
			if evalKinds[kind] {
				kept[kind] = append(kept[kind], u)
			}
		})
		if err != nil {
			rep.Errors = append(rep.Errors, report.Error{File: "cluster", Message: fmt.Sprintf("list %s: %v", kind, err)})
		}
	}
	if err := e.SetInventory(ctx, inv); err != nil {
		return nil, err
	}

	// Pass 2: evaluate every object of the evaluated kinds, page by page.
	kinds := slices.Sorted(maps.Keys(evalKinds))
	objects := 0
	for i, kind := range kinds {
		r, ok := res[kind]
		if !ok {
			continue
		}
		if opts.Namespace != "" && r.clusterScoped && kind != "Namespace" {
			continue
		}
		eval := func(u *unstructured.Unstructured) {
			if kind == "Namespace" && opts.Namespace != "" && u.GetName() != opts.Namespace {
				return
			}
			objects++
			evaluate(ctx, e, rep, u, r, namespaces, opts)
		}
		if items, done := kept[kind]; done {
			for _, u := range items {
				if opts.Namespace == "" || r.clusterScoped || u.GetNamespace() == opts.Namespace {
					eval(u)
				}
			}
		} else {
			ns := opts.Namespace
			if r.clusterScoped {
				ns = ""
			}
			if err := l.list(ctx, r, ns, eval); err != nil {
				rep.Errors = append(rep.Errors, report.Error{File: "cluster", Message: fmt.Sprintf("list %s: %v", kind, err)})
			}
		}
		if opts.Progress != nil {
			opts.Progress(kind, i+1, len(kinds), objects)
		}
	}
	rep.Finish(objects)
	return rep, nil
}

func evaluate(ctx context.Context, e *policies.Engine, rep *report.Report, u *unstructured.Unstructured, r resource, namespaces map[string]*policies.Namespace, opts Options) {
	kind := u.GetKind()
	ns := policies.NamespaceOf(kind, u.GetNamespace())
	in := &policies.Input{
		Operation: "AUDIT",
		Kind:      policies.GVK{Group: r.gvr.Group, Version: r.gvr.Version, Kind: kind},
		Namespace: ns,
		Name:      u.GetName(),
		Object:    u.Object,
	}
	switch {
	case kind == "Namespace":
		in.NamespaceInfo = &policies.Namespace{Name: u.GetName(), Labels: u.GetLabels(), Annotations: u.GetAnnotations()}
	case ns != "":
		if in.NamespaceInfo = namespaces[ns]; in.NamespaceInfo == nil {
			in.NamespaceInfo = &policies.Namespace{Name: ns}
		}
	}
	var evalOpts []policies.EvalOption
	if opts.Passes {
		evalOpts = append(evalOpts, policies.WithScope())
	}
	d, err := e.Evaluate(ctx, in, evalOpts...)
	where := location(kind, ns, u.GetName())
	if err != nil {
		rep.Errors = append(rep.Errors, report.Error{File: where, Message: err.Error()})
		return
	}
	failed := map[string]bool{}
	for _, f := range d.Findings {
		failed[f.RuleID] = true
		if len(opts.Rules) > 0 && !slices.Contains(opts.Rules, f.RuleID) {
			continue
		}
		rep.Findings = append(rep.Findings, report.Finding{
			Rule: f.RuleID, Action: f.Action, Severity: f.Severity, File: where,
			Kind: kind, APIVersion: u.GetAPIVersion(), Namespace: ns, Name: u.GetName(),
			Path: f.Path, Message: f.Message, Fix: f.Fix, Patch: nonNil(f.Patch),
			Exemption: f.Exemption, DryRun: f.DryRun, Note: f.Note,
		})
	}
	for _, id := range d.InScope {
		if !failed[id] && (len(opts.Rules) == 0 || slices.Contains(opts.Rules, id)) {
			rep.Passes = append(rep.Passes, report.Pass{Rule: id, File: where, Kind: kind, Namespace: ns, Name: u.GetName()})
		}
	}
}

// location names an object of the cluster where a manifest finding names a file:
// namespace/<ns>/<kind>/<name>, or cluster/<kind>/<name>.
func location(kind, ns, name string) string {
	if ns == "" {
		return "cluster/" + strings.ToLower(kind) + "/" + name
	}
	return "namespace/" + ns + "/" + strings.ToLower(kind) + "/" + name
}

func nonNil(p []policies.PatchOp) []policies.PatchOp {
	if p == nil {
		return []policies.PatchOp{}
	}
	return p
}

type resource struct {
	gvr           schema.GroupVersionResource
	clusterScoped bool
}

// resources maps kinds to the resources the cluster serves them under; kinds
// without a served resource (CRD not installed) are left out.
func resources(dc discovery.DiscoveryInterface, kinds map[string]bool) (map[string]resource, error) {
	lists, err := dc.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("audit: discover resources: %w", err)
	}
	out := map[string]resource{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !kinds[r.Kind] || strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			if _, dup := out[r.Kind]; !dup {
				out[r.Kind] = resource{gvr: gv.WithResource(r.Name), clusterScoped: !r.Namespaced}
			}
		}
	}
	return out, nil
}

type lister struct {
	dyn      dynamic.Interface
	pageSize int64
}

// list pages through a resource, calling fn for each object.
func (l *lister) list(ctx context.Context, r resource, ns string, fn func(*unstructured.Unstructured)) error {
	var ri dynamic.ResourceInterface = l.dyn.Resource(r.gvr)
	if ns != "" && !r.clusterScoped {
		ri = l.dyn.Resource(r.gvr).Namespace(ns)
	}
	cont := ""
	for {
		page, err := ri.List(ctx, metav1.ListOptions{Limit: l.pageSize, Continue: cont})
		if err != nil {
			return err
		}
		for i := range page.Items {
			u := &page.Items[i]
			u.SetManagedFields(nil)
			fn(u)
		}
		if cont = page.GetContinue(); cont == "" {
			return nil
		}
	}
}
