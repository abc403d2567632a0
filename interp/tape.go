package interp

import (
	"unsafe"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// Tapes. A reverse pass's forward sweep saves, per element of a build, a
// tuple of small vectors and nested arrays of tuples (the element-wise GMM
// saves about 25 objects per point and component). Allocated one by one,
// these cost more than the arithmetic that fills them, and the collector
// scans each. Inside the body of a build of tuples, the small arrays,
// tuples and boxed arrays of tuples are carved instead from a tapeArena:
// a few chunks per build rather than objects per element. Values, steps,
// errors and the order of evaluation are those of the ordinary path; only
// where the storage comes from changes.
//
// Float and boxed chunks are charged to the call's memory meter at their
// full size when allocated (runtime.Charge), as arrays are; tuples are not
// counted, as elsewhere. A chunk stays alive while anything carved from it
// does, so the arena only serves bodies without loops (whose per-iteration
// garbage would be kept alive by a live neighbour) and arrays of at most
// tapeMaxElems elements. Once the call of the def that made an arena
// returns and nothing reaches its chunks, they serve the next call
// (tape_keep.go).

// tapeMaxElems is the largest array carved from a tape arena; larger ones
// are allocated as usual.
const tapeMaxElems = 64

// tapeFirstChunk and tapeLastChunk bound the size (in elements) of an
// arena's chunks, which double from the first: a small build wastes
// little, a large one allocates a few chunks.
const (
	tapeFirstChunk = 64
	tapeLastChunk  = 4096
)

// tapeArena hands out the storage of one run of a build of tuples.
type tapeArena struct {
	m     *runtime.Machine
	f     chunkList[float64]       // f64 storage (charged)
	box   chunkList[runtime.Value] // boxed-array storage (charged)
	tup   chunkList[runtime.Value] // tuple storage (not counted)
	hdr   chunkList[tapeVec]       // array headers
	hdr2  chunkList[tapeMat]       // matrix headers
	small bool                     // chunks bounded by tapeChunkBytes
	// site is where the arena's chunks go back for the next call once
	// this one is done with them (tape_keep.go); nil for an arena that
	// is dropped whole.
	site *tapeSite
}

// chunkList is an arena's storage of one element type: the rest of the
// chunk being carved and the size of the next one. An arena that will be
// recycled also lists the chunks it took (made), and one recycled from
// an earlier call takes that call's chunks again (spare, from spareAt)
// before it allocates.
type chunkList[T any] struct {
	free    []T
	next    int
	made    [][]T
	spare   [][]T
	spareAt int
}

// tapeVec is an array header with room for a 1-D shape, so that a carved
// vector needs no shape slice of its own.
type tapeVec struct {
	runtime.Array
	shape [1]int
}

// tapeMat is an array header with room for a 2-D shape.
type tapeMat struct {
	runtime.Array
	shape [2]int
}

func newTapeArena(m *runtime.Machine, small bool) *tapeArena {
	a := &tapeArena{}
	a.reset(m, small)
	return a
}

// reset readies a for a run under m, with the chunk sizes of a new
// arena; chunks it lists in made become its spares.
func (a *tapeArena) reset(m *runtime.Machine, small bool) {
	a.m, a.small = m, small
	resetList(&a.f)
	resetList(&a.box)
	resetList(&a.tup)
	resetList(&a.hdr)
	resetList(&a.hdr2)
}

// resetList makes the chunks l took its spares, to be taken again in the
// same order (each is cleared when taken), and restarts the sizes.
func resetList[T any](l *chunkList[T]) {
	old := l.spare
	clear(old)
	l.spare, l.made, l.spareAt = l.made, old[:0], 0
	l.free, l.next = nil, tapeFirstChunk
}

// grow returns the next chunk size after n.
func grow(n int) int { return min(2*n, tapeLastChunk) }

// growBytes is grow for a chunk of elements of size bytes: unless small
// is false (noTapeSmallChunks), a chunk stays within tapeChunkBytes.
func growBytes(small bool, n, size int) int {
	if small {
		return max(min(2*n, tapeLastChunk, tapeChunkBytes/size), 1)
	}
	return grow(n)
}

// tapeChunkBytes bounds the bytes of a chunk: at most 32 KB, Go's largest
// small size class. Bounded by elements alone, the chunks of 136-byte
// array headers grew to 557 KB and those of tuple fields to 128 KB: large
// objects, each taken from the page heap and zeroed whole when made. The
// LSTM gradient's forward sweep makes about 20,000 headers per call.
const tapeChunkBytes = 32 << 10

// noTapeSmallChunks, set by tests, bounds chunks by elements only (as
// before tapeChunkBytes), for comparing the two; arenas read it when
// their code is compiled.
var noTapeSmallChunks bool

// header returns a fresh 1-D array header of n elements of kind.
func (a *tapeArena) header(kind runtime.Elem, n int) *runtime.Array {
	if len(a.hdr.free) == 0 {
		a.hdr.free = takeChunk(&a.hdr, a.site != nil, a.small, a.hdr.next)
	}
	// The chunk is zero (new, or cleared when taken again), so only the
	// fields that are not zero are set (a whole-struct store would also
	// write, and put barriers on, the four storage slices).
	v := &a.hdr.free[0]
	a.hdr.free = a.hdr.free[1:]
	v.shape[0] = n
	v.Shape, v.Kind = v.shape[:], kind
	return &v.Array
}

// takeChunk returns a zero chunk of size elements for l and advances
// l.next: the next spare if it has that size, cleared (carving relies on
// zero storage), else a new one. With keep, the chunk is listed in made,
// to be recycled with the arena.
func takeChunk[T any](l *chunkList[T], keep, small bool, size int) []T {
	var c []T
	if l.spareAt < len(l.spare) && len(l.spare[l.spareAt]) == size {
		c = l.spare[l.spareAt]
		l.spare[l.spareAt] = nil
		l.spareAt++
		clear(c)
	} else {
		c = make([]T, size)
	}
	if keep {
		l.made = append(l.made, c)
	}
	l.next = growBytes(small, l.next, int(unsafe.Sizeof(c[0])))
	return c
}

// carve takes n elements from l, first replacing its free storage with a
// zero chunk of at least l.next elements (charged to a's machine when
// charge is set) if it is short. A chunk taken again from an earlier call
// is charged as a new one is: the memory limit sees the same bytes.
func carve[T any](a *tapeArena, l *chunkList[T], n int, charge bool) ([]T, error) {
	if len(l.free) < n {
		size := max(l.next, n)
		next := l.next
		c := takeChunk(l, a.site != nil, a.small, size)
		if charge {
			if err := runtime.Charge(a.m, c); err != nil {
				l.next = next
				return nil, err
			}
		}
		l.free = c
	}
	s := l.free[:n:n]
	l.free = l.free[n:]
	return s, nil
}

// vec returns a zero f64 vector of n ≤ tapeMaxElems elements.
func (a *tapeArena) vec(n int) (*runtime.Array, error) {
	f, err := carve(a, &a.f, n, true)
	if err != nil {
		return nil, err
	}
	out := a.header(runtime.ElemF64, n)
	out.F = f
	return out, nil
}

// like returns a zero f64 array of x's shape, of rank 1 or 2 and at most
// tapeMaxElems elements.
func (a *tapeArena) like(x *runtime.Array) (*runtime.Array, error) {
	if len(x.Shape) == 1 {
		return a.vec(x.Shape[0])
	}
	f, err := carve(a, &a.f, len(x.F), true)
	if err != nil {
		return nil, err
	}
	if len(a.hdr2.free) == 0 {
		a.hdr2.free = takeChunk(&a.hdr2, a.site != nil, a.small, a.hdr2.next)
	}
	// Only the fields that are not zero are set, as in header.
	v := &a.hdr2.free[0]
	a.hdr2.free = a.hdr2.free[1:]
	v.shape = [2]int{x.Shape[0], x.Shape[1]}
	v.Shape, v.Kind, v.F = v.shape[:], runtime.ElemF64, f
	return &v.Array, nil
}

// boxes returns a boxed vector of n ≤ tapeMaxElems elements.
func (a *tapeArena) boxes(n int) (*runtime.Array, error) {
	b, err := carve(a, &a.box, n, true)
	if err != nil {
		return nil, err
	}
	out := a.header(runtime.ElemBox, n)
	out.Box = b
	return out, nil
}

// tuple returns storage for a tuple of k fields.
func (a *tapeArena) tuple(k int) runtime.Tuple {
	t, _ := carve(a, &a.tup, k, false)
	return runtime.Tuple(t)
}

// arenaOf returns the arena of the build being run, which owns slot s-1
// of the frame (s is fnComp.tape).
func arenaOf(fr *frame, s int) *tapeArena {
	a, _ := fr.slots[s-1].R.(*tapeArena)
	return a
}

// tapeOwner reports whether a build or map of elem, with this body,
// should run with an arena: its elements are tuples, no enclosing build
// has one already, and its body has no loop.
func (c *fnComp) tapeOwner(elem ir.Type, body ir.Expr) bool {
	if _, ok := elem.(*ir.Tuple); !ok || c.tape != 0 || plainTyped {
		return false
	}
	loops := false
	walk(body, func(e ir.Expr) {
		if _, ok := e.(*ir.Loop); ok {
			loops = true
		}
	})
	return !loops
}

// tapeStack runs a build or map of tuples whose storage comes from the
// arena of slot tape (fnComp.tape), creating the arena when own (through
// site, which may recycle one: tape_keep.go). It does what Stacker.Stack
// does for boxed elements, with the steps of inlineComp.
func tapeStack(cp *comp, body evalFn, tape int, own bool, site *tapeSite) evalFn {
	small := !noTapeSmallChunks
	run := func(fr *frame) (runtime.Value, error) {
		n := cp.start(fr)
		if n < 0 {
			return runtime.Value{}, fr.takeErr()
		}
		if own {
			// Only now: the slot is free while the count or the arrays
			// are evaluated, and their code may use it as scratch.
			fr.slots[tape-1] = runtime.Value{R: site.arena(fr, small)}
		}
		cp.prepare(fr)
		var out *runtime.Array
		var err error
		if n <= tapeMaxElems {
			out, err = arenaOf(fr, tape).boxes(n)
		} else {
			out, err = runtime.NewBox(fr.m, n)
		}
		if err != nil {
			return runtime.Value{}, errAt(cp.pos, err)
		}
		for i := range n {
			if !compStep(fr, cp, i, n, cp.steps) {
				return runtime.Value{}, errAt(cp.pos, fr.takeErr())
			}
			cp.bind(fr, i)
			v, err := body(fr)
			if err != nil {
				return runtime.Value{}, errAt(cp.pos, err)
			}
			out.Box[i] = v
		}
		return runtime.Arr(out), nil
	}
	if !own {
		return run
	}
	return func(fr *frame) (runtime.Value, error) {
		v, err := run(fr)
		fr.slots[tape-1] = runtime.Value{} // the arena dies with what it made
		return v, err
	}
}

func isTuple(t ir.Type) bool {
	_, ok := t.(*ir.Tuple)
	return ok
}
