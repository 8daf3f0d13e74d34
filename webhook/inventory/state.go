package inventory

import (
	"context"
	"fmt"
	"time"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/dynamic"

	"github.com/kgate-dev/kgate/policies"
)

// Fresh installs the changes the informers have seen but the debounced rebuild
// has not yet: an admission right after a change (a deleted default-deny
// policy, then a new workload) is judged against it. Cheap when nothing changed.
//
// Rebuilds on the admission path are at most one per freshWindow: under a burst
// of changes requests share a rebuild instead of each paying for one.
func (c *Cache) Fresh(ctx context.Context) {
	if c.stores == nil || !c.pending.Load() || c.Age() < freshWindow {
		return
	}
	if c.pending.Swap(false) {
		c.flush(ctx)
	}
}

// freshWindow bounds how often the admission path rebuilds the inventory.
const freshWindow = 50 * time.Millisecond

// Age is how long ago the inventory was built from the cluster.
func (c *Cache) Age() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.built.IsZero() {
		return 0
	}
	return time.Since(c.built)
}

// Recheck reads the given kinds of a namespace (and cluster-scoped ones) straight
// from the API server and installs them, so that a deny which depends on
// cluster state is never based on a stale cache.
func (c *Cache) Recheck(ctx context.Context, namespace string, kinds []string) error {
	c.mu.Lock()
	base := c.current
	c.mu.Unlock()
	if base == nil || c.dyn == nil {
		return nil
	}
	inv := policies.NewInventory()
	for ns, byKind := range base.Namespaced {
		for kind, objs := range byKind {
			for name, o := range objs {
				inv.Add(kind, ns, name, o)
			}
		}
	}
	for kind, objs := range base.Cluster {
		for name, o := range objs {
			inv.Add(kind, "", name, o)
		}
	}
	for _, kind := range kinds {
		gvr, ok := c.gvrs[kind]
		if !ok {
			continue
		}
		clusterScoped := policies.ClusterScoped(kind)
		var ri dynamic.ResourceInterface = c.dyn.Resource(gvr)
		if !clusterScoped {
			ri = c.dyn.Resource(gvr).Namespace(namespace)
		}
		list, err := ri.List(ctx, metav1.ListOptions{})
		if err != nil {
			return fmt.Errorf("recheck %s: %w", kind, err)
		}
		if clusterScoped {
			delete(inv.Cluster, kind)
		} else if inv.Namespaced[namespace] != nil {
			delete(inv.Namespaced[namespace], kind)
		}
		for i := range list.Items {
			u := &list.Items[i]
			_, _ = slim(u)
			inv.Add(kind, policies.NamespaceOf(kind, u.GetNamespace()), u.GetName(), u.Object)
		}
	}
	c.install(ctx, inv)
	return nil
}
