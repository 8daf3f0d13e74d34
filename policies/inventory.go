package policies

import (
	"context"
	"fmt"
	"maps"
	"runtime"
	"sync"

	"github.com/open-policy-agent/opa/v1/ast"

	"github.com/open-policy-agent/opa/v1/storage"
)

// Inventory holds the other objects referential rules look at, shaped as rules
// read it: Namespaced[namespace][kind][name] and Cluster[kind][name].
type Inventory struct {
	Namespaced map[string]map[string]map[string]any
	Cluster    map[string]map[string]any
}

// NewInventory returns an empty inventory.
func NewInventory() *Inventory {
	return &Inventory{Namespaced: map[string]map[string]map[string]any{}, Cluster: map[string]map[string]any{}}
}

// Add records obj under its kind, namespace ("" for cluster-scoped) and name.
func (inv *Inventory) Add(kind, namespace, name string, obj any) {
	if namespace == "" {
		if inv.Cluster[kind] == nil {
			inv.Cluster[kind] = map[string]any{}
		}
		inv.Cluster[kind][name] = obj
		return
	}
	ns := inv.Namespaced[namespace]
	if ns == nil {
		ns = map[string]map[string]any{}
		inv.Namespaced[namespace] = ns
	}
	if ns[kind] == nil {
		ns[kind] = map[string]any{}
	}
	ns[kind][name] = obj
}

// SetInventory replaces data.inventory. Evaluations that start after it returns
// see the new inventory.
func (e *Engine) SetInventory(ctx context.Context, inv *Inventory) error {
	// The store converts what it is given to OPA values; the objects are converted
	// here first, on every CPU, because on one core this was the longest serial
	// step of a large `kgate check` run. The store keeps values it is given as is.
	var byKind []map[string]any
	ns := make(map[string]any, len(inv.Namespaced))
	for n, kinds := range inv.Namespaced {
		km := make(map[string]any, len(kinds))
		for k, objs := range kinds {
			cp := maps.Clone(objs)
			km[k] = cp
			byKind = append(byKind, cp)
		}
		ns[n] = km
	}
	cl := make(map[string]any, len(inv.Cluster))
	for k, objs := range inv.Cluster {
		cp := maps.Clone(objs)
		cl[k] = cp
		byKind = append(byKind, cp)
	}
	if err := toValues(byKind); err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	value := map[string]any{"namespace": ns, "cluster": cl}
	err := storage.Txn(ctx, e.store, storage.WriteParams, func(txn storage.Transaction) error {
		return e.store.Write(ctx, txn, storage.ReplaceOp, storage.MustParsePath("/inventory"), value)
	})
	if err != nil {
		return fmt.Errorf("write inventory: %w", err)
	}
	if e.prog != nil {
		return e.data.refresh(ctx, e.store)
	}
	return nil
}

// toValues replaces every object of the maps (copies of the Inventory's, which
// keeps the objects as given) with its OPA value, on every CPU.
func toValues(byKind []map[string]any) error {
	type item struct {
		objs map[string]any
		name string
	}
	var items []item
	for _, objs := range byKind {
		for name := range objs {
			items = append(items, item{objs, name})
		}
	}
	vals := make([]ast.Value, len(items))
	errs := make([]error, len(items))
	workers := min(runtime.GOMAXPROCS(0), len(items))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < len(items); i += workers {
				vals[i], errs[i] = ast.InterfaceToValue(items[i].objs[items[i].name])
			}
		}()
	}
	wg.Wait()
	for i, it := range items {
		if errs[i] != nil {
			return fmt.Errorf("%s: %w", it.name, errs[i])
		}
		it.objs[it.name] = vals[i]
	}
	return nil
}
