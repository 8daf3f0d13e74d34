package policies

import (
	"context"
	"fmt"
	"maps"
	"path"
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
	// The store converts what it is given to OPA values, on one core; that was
	// the longest serial step of a large `kgate check` run. The objects are
	// converted here on every CPU instead, into copies of the kind maps so that
	// the Inventory keeps its objects as given; the store keeps values as is.
	var objs []inventoryObject
	clone := func(kind, namespace string, byName map[string]any) map[string]any {
		cp := maps.Clone(byName)
		for name := range cp {
			objs = append(objs, inventoryObject{cp, kind, namespace, name})
		}
		return cp
	}
	ns := make(map[string]any, len(inv.Namespaced))
	for n, kinds := range inv.Namespaced {
		km := make(map[string]any, len(kinds))
		for k, byName := range kinds {
			km[k] = clone(k, n, byName)
		}
		ns[n] = km
	}
	cl := make(map[string]any, len(inv.Cluster))
	for k, byName := range inv.Cluster {
		cl[k] = clone(k, "", byName)
	}
	if err := toValues(objs); err != nil {
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

// inventoryObject is one entry of a kind map being converted.
type inventoryObject struct {
	byName                map[string]any
	kind, namespace, name string
}

// toValues replaces every object in its kind map with its OPA value, on every
// CPU; each CPU's objects share their equal parts (see interner).
func toValues(objs []inventoryObject) error {
	vals := make([]ast.Value, len(objs))
	errs := make([]error, len(objs))
	workers := min(runtime.GOMAXPROCS(0), len(objs))
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			in := newInterner()
			for i := w; i < len(objs); i += workers {
				var t *ast.Term
				if t, errs[i] = in.term(objs[i].byName[objs[i].name]); t != nil {
					vals[i] = t.Value
				}
			}
		}()
	}
	wg.Wait()
	for i, o := range objs {
		if errs[i] != nil {
			return fmt.Errorf("%s %s: %w", o.kind, path.Join(o.namespace, o.name), errs[i])
		}
		o.byName[o.name] = vals[i]
	}
	return nil
}
