package interp

import (
	"unsafe"

	"github.com/nabla-lang/nabla/runtime"
)

// Tape tuples without an allocation each. A tuple is a slice, and storing
// a slice in runtime.Value.R (an interface) copies its header to a fresh
// heap object: one allocation per tape tuple, 31k of the element-wise GMM
// gradient's 41.5k per call even with the tuples' fields carved from the
// arena. The arena now also carves the headers, and tupleValue makes the
// interface point at the carved header. That is the representation the
// conversion itself produces (a type word and a pointer to a copy of the
// header), with the copy in a chunk instead of an object of its own; the
// header is never written again, and the chunk lives while any tuple
// pointing into it does (the collector follows interior pointers).

// eface is the layout of an empty interface.
type eface struct {
	typ  unsafe.Pointer
	data unsafe.Pointer
}

// tupleType is the type word of an interface holding a runtime.Tuple.
var tupleType = func() unsafe.Pointer {
	var x any = runtime.Tuple(nil)
	return (*eface)(unsafe.Pointer(&x)).typ
}()

// tupleValue returns t as a value, its header carved from the arena.
func (a *tapeArena) tupleValue(t runtime.Tuple) runtime.Value {
	h, _ := carve(a.m, &a.thdr, &a.nthdr, 1, false)
	h[0] = t
	var x any
	e := (*eface)(unsafe.Pointer(&x))
	e.typ, e.data = tupleType, unsafe.Pointer(&h[0])
	return runtime.Value{R: x}
}
