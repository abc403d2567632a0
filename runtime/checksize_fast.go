// CheckSizeFast: CheckSize for the checks generated code runs once per
// call, small enough for Go to inline into the caller.

package runtime

import "sync/atomic"

// sizeBound is the largest size CheckSize accepts: MaxElems, or fewer
// after SetArrayLimit (the limit's elements at 8 bytes each). It is kept
// by setSizeBound whenever the limit changes.
var sizeBound atomic.Uint64

func init() { setSizeBound(0) }

// setSizeBound derives sizeBound from the array limit lim (0 for none),
// as CheckSize's conditions read it.
func setSizeBound(lim int64) {
	b := int64(MaxElems)
	if lim > 0 {
		b = min(b, lim/8)
	}
	sizeBound.Store(uint64(b))
}

// CheckSizeFast is CheckSize. A size CheckSize accepts is exactly one in
// [0, sizeBound], which one unsigned comparison decides (a negative size
// is a huge uint64); every other size, and so every error, is left to
// CheckSize. Go inlines it, where CheckSize is a call: codegen writes it
// for the size checks at a function's top level, which run once per call
// and cost a small function (Rosenbrock at n = 10) a visible part of its
// time. Checks in loops keep the call, since inlining there made larger
// loop bodies slower (GMM at d = 10, stop 24).
func CheckSizeFast(n int64) (m int, err error) {
	if m = int(n); uint64(n) > sizeBound.Load() {
		m, err = CheckSize(n)
	}
	return
}
