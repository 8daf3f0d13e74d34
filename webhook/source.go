package webhook

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/kgate-dev/kgate/policies"
)

// Sources is what both admission handlers read besides the request.
type Sources struct {
	Engines EngineSource
	// Namespaces, when set, looks up the namespace of the object under review.
	Namespaces NamespaceLookup
	// State, when set, is brought up to date before each evaluation.
	State State
	// Metrics, when set, records every answer.
	Metrics *Metrics
}

// EngineSource yields the engine one request is evaluated with. Reloading swaps
// the engine behind it; a request keeps the engine it started with.
type EngineSource interface {
	Engine() *policies.Engine
}

// Fixed serves one engine for the life of the process.
type Fixed struct{ E *policies.Engine }

// Engine implements EngineSource.
func (f Fixed) Engine() *policies.Engine { return f.E }

// Swappable is an EngineSource whose engine can be replaced while requests are
// served: the last good policy set stays in force until a new one is stored.
type Swappable struct {
	p atomic.Pointer[policies.Engine]
}

// NewSwappable starts with e.
func NewSwappable(e *policies.Engine) *Swappable {
	s := &Swappable{}
	s.p.Store(e)
	return s
}

// Engine implements EngineSource.
func (s *Swappable) Engine() *policies.Engine { return s.p.Load() }

// Store replaces the engine for requests that start afterwards.
func (s *Swappable) Store(e *policies.Engine) { s.p.Store(e) }

// State is the cluster state referential rules read: the webhook's inventory
// cache. Nil means the engine's inventory is used as it is.
type State interface {
	// Fresh installs changes the cache has seen but not yet installed.
	Fresh(ctx context.Context)
	// Recheck reads the kinds of a namespace straight from the API server.
	Recheck(ctx context.Context, namespace string, kinds []string) error
	// Age is how long ago the installed state was read.
	Age() time.Duration
}

// NamespaceLookup returns the labels and annotations of a namespace for scoped
// settings and namespace exemptions; nil when the namespace is unknown.
type NamespaceLookup func(ctx context.Context, name string) *policies.Namespace
