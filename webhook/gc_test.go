package webhook

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"testing"
	"time"
)

func gogc() uint64 {
	s := []metrics.Sample{{Name: "/gc/gogc:percent"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// TestHeapFloorRaisesGOGC sets GOGC from the live heap after collections: a
// floor far above the live heap raises it, and a floor below twice the live
// heap leaves the runtime's default.
func TestHeapFloorRaisesGOGC(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	f := startHeapFloor(1 << 30)
	defer f.stopped.Store(true)
	deadline := time.Now().Add(5 * time.Second)
	for gogc() <= 1000 {
		if time.Now().After(deadline) {
			t.Fatalf("GOGC %d after collections with a 1 GiB floor: want it raised", gogc())
		}
		runtime.GC()
		time.Sleep(time.Millisecond)
	}
	f.stopped.Store(true)
	low := &heapFloor{floor: 1, live: []metrics.Sample{{Name: "/gc/heap/live:bytes"}}}
	low.adjust()
	if got := gogc(); got != 100 {
		t.Errorf("GOGC %d with a floor below the live heap, want 100", got)
	}
}

// TestSetHeapFloorLeavesTheOperatorsPacing does nothing when GOGC is set.
func TestSetHeapFloorLeavesTheOperatorsPacing(t *testing.T) {
	defer debug.SetGCPercent(debug.SetGCPercent(100))
	t.Setenv("GOGC", "100")
	SetHeapFloor(1 << 30)
	runtime.GC()
	runtime.GC()
	time.Sleep(10 * time.Millisecond)
	if got := gogc(); got != 100 {
		t.Errorf("GOGC %d, want the 100 the environment set", got)
	}
}
