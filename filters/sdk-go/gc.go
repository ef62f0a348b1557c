package weirfilter

import (
	"runtime"
	"runtime/debug"
	"runtime/metrics"
)

// Go's collector reads the clocks, and a collection may start in any
// allocation, including the ones weir makes through `cabi_realloc` to hand a
// filter a string or a list. The component model forbids calls out of the
// component there, so such a collection traps ("cannot leave component
// instance"; the preview1 adapter pauses only the monotonic clock for it).
// So the collector never starts by itself: the SDK collects at the end of a
// phase call, once enough has been allocated since the last collection.
const collectEvery = 4 << 20

var (
	allocated         = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	allocatedAtLastGC uint64
)

func init() {
	debug.SetGCPercent(-1)
}

// CollectIfDue runs the collector when collectEvery bytes were allocated
// since the last run. Called by the component's exports after each phase.
func CollectIfDue() {
	metrics.Read(allocated)
	now := allocated[0].Value.Uint64()
	if now-allocatedAtLastGC >= collectEvery {
		runtime.GC()
		allocatedAtLastGC = now
	}
}
