package policies

import (
	"context"
	"fmt"

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
	ns := make(map[string]any, len(inv.Namespaced))
	for n, kinds := range inv.Namespaced {
		km := make(map[string]any, len(kinds))
		for k, objs := range kinds {
			km[k] = objs
		}
		ns[n] = km
	}
	cl := make(map[string]any, len(inv.Cluster))
	for k, objs := range inv.Cluster {
		cl[k] = objs
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
