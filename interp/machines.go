package interp

import (
	"context"
	"sync"
	"unsafe"

	"github.com/nabla-lang/nabla/runtime"
)

// Entry calls take their machine, and the stack their frames come from
// (frame.go), from a pool: a warm call of a def allocates nothing for its
// own bookkeeping. A machine goes back reset (runtime.Machine.Reset), so
// that it keeps neither the caller's context nor any array of the call,
// and a stack goes back empty, its frames cleared by their pops; an entry
// abandoned by a panic is dropped.
type entryState struct {
	m  *runtime.Machine
	st *stack
}

var entryPool = sync.Pool{New: func() any {
	return &entryState{m: runtime.NewMachine(context.Background(), runtime.Limits{}), st: new(stack)}
}}

func getEntry(ctx context.Context, lim runtime.Limits) *entryState {
	e := entryPool.Get().(*entryState)
	e.m.Ctx, e.m.Limits = ctx, lim
	return e
}

func putEntry(e *entryState) {
	e.m.Reset(context.Background(), runtime.Limits{})
	if e.st.depth == 0 {
		entryPool.Put(e)
	}
}

// mayOffer reports whether out can be offered to a call on args as
// storage for its result: out is a flat array of scalars, and every
// argument is a scalar or such an array whose storage does not overlap
// out's (an axpy writing into its own y must not find y zeroed). Anything
// else (tuples, boxed arrays, closures) could hide an alias, so it is
// never offered then.
func mayOffer(out *runtime.Array, args []runtime.Value) bool {
	lo, hi, ok := extent(out)
	if !ok {
		return false
	}
	for _, a := range args {
		if a.R == nil {
			continue
		}
		arr, isArr := a.R.(*runtime.Array)
		if !isArr || arr == nil {
			return false
		}
		alo, ahi, ok := extent(arr)
		if !ok {
			return false
		}
		if alo < hi && lo < ahi {
			return false
		}
	}
	return true
}

// extent is the address range of a flat array's storage (empty for an
// empty one); ok is false for an array of boxed values.
func extent(a *runtime.Array) (lo, hi uintptr, ok bool) {
	switch a.Kind {
	case runtime.ElemF64:
		return span(a.F)
	case runtime.ElemI64:
		return span(a.I)
	case runtime.ElemBool:
		return span(a.B)
	}
	return 0, 0, false
}

func span[T any](s []T) (lo, hi uintptr, ok bool) {
	if cap(s) == 0 {
		return 0, 0, true
	}
	// The whole capacity, to be on the safe side: two views of one
	// backing array are kept apart even when their lengths do not meet.
	p := uintptr(unsafe.Pointer(unsafe.SliceData(s)))
	return p, p + uintptr(cap(s))*unsafe.Sizeof(*new(T)), true
}
