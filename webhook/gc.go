package webhook

import (
	"os"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"sync/atomic"
)

// ServeHeapFloor is the heap size below which a webhook server does not
// collect garbage (see SetHeapFloor). The server's live heap is about 9 MiB
// once the policies are compiled, so with GOGC=100 it collected after every
// 10 MiB it allocated, about every hundred reviews: 7-9 % of its CPU under
// load went to marking. At 32 MiB the server's peak RSS under load stays
// near the one reached while compiling the policies (83-85 MiB in the
// open-loop benchmark); 40 MiB saved no more CPU and reached 91-99 MiB.
const ServeHeapFloor = 32 << 20

// SetHeapFloor makes the garbage collector wait until the heap reaches floor
// bytes, or twice the live heap when that is more (GOGC=100): a small live
// heap is not collected every few MiB, and a large one is collected as often
// as the runtime's default would, never more. GOGC is set again after every
// collection from the live heap that collection found. Without effect when
// GOGC or GOMEMLIMIT is set: the operator's pacing wins.
func SetHeapFloor(floor uint64) {
	if os.Getenv("GOGC") != "" || os.Getenv("GOMEMLIMIT") != "" {
		return
	}
	startHeapFloor(floor)
}

func startHeapFloor(floor uint64) *heapFloor {
	f := &heapFloor{floor: floor, percent: 100, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	f.adjust()
	f.arm()
	return f
}

type heapFloor struct {
	floor   uint64
	percent int
	live    []metrics.Sample
	stopped atomic.Bool // for tests
}

// gcCycle is garbage as soon as it is made: its finalizer runs after the
// next collection. It holds a pointer, so the tiny allocator, whose objects
// may never be finalized, does not place it.
type gcCycle struct{ f *heapFloor }

func (f *heapFloor) arm() {
	runtime.SetFinalizer(&gcCycle{f}, func(c *gcCycle) {
		if !c.f.stopped.Load() {
			c.f.adjust()
			c.f.arm()
		}
	})
}

// adjust sets GOGC so that the next collection comes at the floor, or at
// twice the live heap.
func (f *heapFloor) adjust() {
	metrics.Read(f.live)
	if f.live[0].Value.Kind() != metrics.KindUint64 {
		return
	}
	percent := 100
	if live := f.live[0].Value.Uint64(); live > 0 && f.floor > 2*live {
		percent = int(f.floor*100/live) - 100
	}
	if percent != f.percent {
		debug.SetGCPercent(percent)
		f.percent = percent
	}
}
