package interp

import (
	"sync/atomic"
	"unsafe"

	"github.com/nabla-lang/nabla/runtime"
)

// Tuples without their second allocation. A runtime.Tuple is a slice, so
// storing one in a Value's interface (Value{R: t}) makes Go copy its
// 24-byte header to a new heap object: every tuple the interpreter builds
// costs two allocations, its elements and that header. Reverse passes
// build several small tuples per iteration (the LSTM gradient's tape
// entries and cotangent pairs: about half its allocations).
//
// boxTuple makes the interface point at a header that already lives in
// memory the tuple owns instead: a header carved from the tape arena next
// to the other carved storage, or, for a tuple of two to four elements
// outside a tape, a header allocated together with the elements (one
// object, tupleN). The value read back (v.R.(runtime.Tuple)) is the same
// header; only where it lives changes. The header is written once, before
// it is boxed, and never again, as Go's own boxed copies are.

// eface is the layout of an empty interface: its dynamic type and a
// pointer to the value.
type eface struct {
	typ, data unsafe.Pointer
}

// tupleType is the type word of an interface holding a runtime.Tuple.
var tupleType = func() unsafe.Pointer {
	var x any = runtime.Tuple{}
	return (*eface)(unsafe.Pointer(&x)).typ
}()

// boxTuple returns the interface holding *h, pointing at h itself. *h
// must not change afterwards.
func boxTuple(h *runtime.Tuple) (x any) {
	e := (*eface)(unsafe.Pointer(&x))
	e.typ, e.data = tupleType, unsafe.Pointer(h)
	return x
}

// tupleN is a tuple of N elements (A is [N]runtime.Value) with its
// header in the same object: the header comes first, so the interface's
// pointer to it keeps the elements alive too.
type tupleN[A any] struct {
	h runtime.Tuple
	v A
}

// newTuple returns a zero tuple of k elements and its interface, in one
// allocation for 2 ≤ k ≤ 4; ok is false for other sizes.
func newTuple(k int) (t runtime.Tuple, x any, ok bool) {
	switch k {
	case 2:
		p := new(tupleN[[2]runtime.Value])
		p.h = p.v[:]
		return p.h, boxTuple(&p.h), true
	case 3:
		p := new(tupleN[[3]runtime.Value])
		p.h = p.v[:]
		return p.h, boxTuple(&p.h), true
	case 4:
		p := new(tupleN[[4]runtime.Value])
		p.h = p.v[:]
		return p.h, boxTuple(&p.h), true
	}
	return nil, nil, false
}

// noTupleBox, set by tests, boxes tuples as Go does (Value{R: t}), the
// reference; tupleBoxes counts the tuples boxed in place.
var (
	noTupleBox bool
	tupleBoxes atomic.Int64
)

// makeTuple returns a zero tuple of k elements for compileTuple, from the
// arena of slot tape when tape is not 0, and the interface to store once
// its elements are set: nil when box is false or no in-place header
// applies (the caller then boxes the tuple as Go does).
func makeTuple(fr *frame, tape, k int, box bool) (runtime.Tuple, any) {
	if tape != 0 {
		a := arenaOf(fr, tape)
		t := a.tuple(k)
		if !box {
			return t, nil
		}
		h, _ := carve(a.m, &a.thdr, &a.nthdr, 1, false, a.small)
		h[0] = t
		tupleBoxes.Add(1)
		return t, boxTuple(&h[0])
	}
	if box {
		if t, x, ok := newTuple(k); ok {
			tupleBoxes.Add(1)
			return t, x
		}
	}
	return make(runtime.Tuple, k), nil
}
