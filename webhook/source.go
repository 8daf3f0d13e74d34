package webhook

import (
	"context"
	"sync/atomic"

	"github.com/kgate-dev/kgate/policies"
)

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

// NamespaceLookup returns the labels and annotations of a namespace for scoped
// settings and namespace exemptions; nil when the namespace is unknown.
type NamespaceLookup func(ctx context.Context, name string) *policies.Namespace
