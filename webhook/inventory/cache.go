// Package inventory keeps the engine's data.inventory current in a serving
// webhook: it watches the kinds referential rules read (NetworkPolicies,
// StorageClasses, LimitRanges, ...) with informers and hands the engine a fresh
// inventory shortly after any of them changes.
package inventory

import (
	"context"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-logr/logr"
	"k8s.io/apimachinery/pkg/api/equality"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/dynamic/dynamicinformer"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/cache"

	"github.com/kgate-dev/kgate/policies"
)

// Cache mirrors the inventory kinds of the cluster. Kinds the cluster does not
// serve (a CRD that is not installed) are skipped and logged once.
type Cache struct {
	Config *rest.Config
	// Kinds are the kinds to watch (policies.Engine.InventoryKinds).
	Kinds []string
	// Engine returns the engine in force; the cache updates its inventory.
	Engine func() *policies.Engine
	Log    logr.Logger
	// Debounce bounds how often the inventory is rebuilt while objects change.
	Debounce time.Duration

	mu      sync.Mutex
	current *policies.Inventory
	synced  bool
	built   time.Time // when current was built
	dirty   chan struct{}
	pending atomic.Bool
	stores  map[string]cache.Store // kind -> informer store
	gvrs    map[string]schema.GroupVersionResource
	dyn     dynamic.Interface
}

// Start discovers the kinds, starts the informers, waits for their first
// listing and then keeps the engine's inventory current until ctx ends. It
// implements controller-runtime's manager.Runnable.
func (c *Cache) Start(ctx context.Context) error {
	c.dirty = make(chan struct{}, 1)
	gvrs, err := c.resources()
	if err != nil {
		return err
	}
	dyn, err := dynamic.NewForConfig(c.Config)
	if err != nil {
		return fmt.Errorf("inventory: %w", err)
	}
	c.dyn, c.gvrs = dyn, gvrs
	factory := dynamicinformer.NewDynamicSharedInformerFactory(dyn, 0)
	c.stores = map[string]cache.Store{}
	var syncs []cache.InformerSynced
	for kind, gvr := range gvrs {
		inf := factory.ForResource(gvr).Informer()
		// Rules read specs and labels: managed fields and the last-applied copy
		// only cost memory.
		if err := inf.SetTransform(slim); err != nil {
			return fmt.Errorf("inventory %s: %w", kind, err)
		}
		if _, err := inf.AddEventHandler(cache.ResourceEventHandlerFuncs{
			AddFunc: func(any) { c.markDirty() },
			UpdateFunc: func(old, cur any) {
				if changed(old, cur) {
					c.markDirty()
				}
			},
			DeleteFunc: func(any) { c.markDirty() },
		}); err != nil {
			return fmt.Errorf("inventory %s: %w", kind, err)
		}
		c.stores[kind] = inf.GetStore()
		syncs = append(syncs, inf.HasSynced)
	}
	factory.Start(ctx.Done())
	if !cache.WaitForCacheSync(ctx.Done(), syncs...) {
		return nil // stopped before the first listing
	}
	c.flush(ctx)
	c.mu.Lock()
	c.synced = true
	c.mu.Unlock()
	c.Log.Info("inventory synced", "kinds", len(gvrs))
	debounce := c.Debounce
	if debounce <= 0 {
		debounce = 200 * time.Millisecond
	}
	for {
		select {
		case <-ctx.Done():
			factory.Shutdown()
			return nil
		case <-c.dirty:
			time.Sleep(debounce) // collect a burst of changes into one rebuild
			if c.pending.Swap(false) {
				c.flush(ctx)
			}
		}
	}
}

// NeedLeaderElection is false: every replica serves, so every replica keeps its
// inventory.
func (c *Cache) NeedLeaderElection() bool { return false }

// Synced is a readiness check: ready once the first listing is loaded, so that
// referential rules never judge against an empty cluster.
func (c *Cache) Synced(_ *http.Request) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.synced {
		return fmt.Errorf("inventory not synced yet")
	}
	return nil
}

// ApplyTo gives a newly built engine (a policy reload) the current inventory.
func (c *Cache) ApplyTo(ctx context.Context, e *policies.Engine) error {
	c.mu.Lock()
	inv := c.current
	c.mu.Unlock()
	if inv == nil {
		return nil
	}
	return e.SetInventory(ctx, inv)
}

func (c *Cache) markDirty() {
	c.pending.Store(true)
	select {
	case c.dirty <- struct{}{}:
	default:
	}
}

// flush rebuilds the inventory from the informer stores and installs it.
func (c *Cache) flush(ctx context.Context) {
	inv := policies.NewInventory()
	for kind, store := range c.stores {
		for _, item := range store.List() {
			u, ok := item.(*unstructured.Unstructured)
			if !ok {
				continue
			}
			inv.Add(kind, policies.NamespaceOf(kind, u.GetNamespace()), u.GetName(), u.Object)
		}
	}
	c.install(ctx, inv)
}

func (c *Cache) install(ctx context.Context, inv *policies.Inventory) {
	c.mu.Lock()
	c.current, c.built = inv, time.Now()
	c.mu.Unlock()
	if err := c.Engine().SetInventory(ctx, inv); err != nil {
		c.Log.Error(err, "install inventory")
	}
}

// resources maps each wanted kind to the resource the cluster serves it under.
func (c *Cache) resources() (map[string]schema.GroupVersionResource, error) {
	dc, err := discovery.NewDiscoveryClientForConfig(c.Config)
	if err != nil {
		return nil, fmt.Errorf("inventory: %w", err)
	}
	// Partial results are fine: an unavailable aggregated API must not stop
	// the webhook.
	lists, err := dc.ServerPreferredResources()
	if err != nil && len(lists) == 0 {
		return nil, fmt.Errorf("inventory: discover resources: %w", err)
	}
	want := map[string]bool{}
	for _, k := range c.Kinds {
		want[k] = true
	}
	out := map[string]schema.GroupVersionResource{}
	for _, l := range lists {
		gv, err := schema.ParseGroupVersion(l.GroupVersion)
		if err != nil {
			continue
		}
		for _, r := range l.APIResources {
			if !want[r.Kind] || containsSlash(r.Name) || !hasVerbs(r.Verbs, "list", "watch") {
				continue
			}
			if _, dup := out[r.Kind]; !dup {
				out[r.Kind] = gv.WithResource(r.Name)
			}
		}
	}
	var missing []string
	for k := range want {
		if _, ok := out[k]; !ok {
			missing = append(missing, k)
		}
	}
	sort.Strings(missing)
	if len(missing) > 0 {
		c.Log.Info("inventory kinds not served by this cluster; rules reading them see none", "kinds", missing)
	}
	return out, nil
}

func containsSlash(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return true
		}
	}
	return false
}

func hasVerbs(have []string, want ...string) bool {
	set := map[string]bool{}
	for _, v := range have {
		set[v] = true
	}
	for _, v := range want {
		if !set[v] {
			return false
		}
	}
	return true
}

// statusRead are the kinds whose status a rule reads (a VPA's recommendation,
// an EC2NodeClass's subnets, a PersistentVolume's phase).
var statusRead = map[string]bool{"VerticalPodAutoscaler": true, "EC2NodeClass": true, "PersistentVolume": true}

// changed tells whether an update matters to the rules: status-only updates
// (Node heartbeats, rollout progress) of other kinds would otherwise rebuild
// the inventory all the time.
func changed(old, cur any) bool {
	o, ok1 := old.(*unstructured.Unstructured)
	n, ok2 := cur.(*unstructured.Unstructured)
	if !ok1 || !ok2 || statusRead[n.GetKind()] {
		return true
	}
	strip := func(u *unstructured.Unstructured) map[string]any {
		m := make(map[string]any, len(u.Object))
		for k, v := range u.Object {
			if k != "status" && k != "metadata" {
				m[k] = v
			}
		}
		m["labels"], m["annotations"], m["deleting"] = u.GetLabels(), u.GetAnnotations(), u.GetDeletionTimestamp() != nil
		return m
	}
	return !equality.Semantic.DeepEqual(strip(o), strip(n))
}

// slim drops what no rule reads from cached objects.
func slim(obj any) (any, error) {
	u, ok := obj.(*unstructured.Unstructured)
	if !ok {
		return obj, nil
	}
	u.SetManagedFields(nil)
	if u.GetKind() == "Node" {
		// A Node's image list is most of its size and no rule reads it.
		unstructured.RemoveNestedField(u.Object, "status", "images")
	}
	if ann := u.GetAnnotations(); ann != nil {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
		u.SetAnnotations(ann)
	}
	return u, nil
}
