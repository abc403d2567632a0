package runtime

import (
	"context"
	"slices"
)

// Buffer reuse. An evaluator that knows an array it allocated is dead (no
// value refers to it or to its storage any more) gives it back with
// Machine.Recycle; the next New of the same kind and size in the same call
// takes it instead of allocating, zeroed as a new array is. A loop whose
// iterations make arrays of fixed shapes then allocates nothing once warm.
// A recycled array is not charged again: it was charged when first
// allocated and the live-memory meter (memory.go) still sees it alive, so
// recycling changes where arrays come from, not what is counted.

// maxRecycled bounds the arrays a Machine keeps for reuse.
const maxRecycled = 64

// Recycle offers a for reuse by later allocations of this call. The
// caller guarantees that nothing refers to a, its shape or its storage.
func (m *Machine) Recycle(a *Array) {
	if m == nil || a == nil || len(m.free) >= maxRecycled {
		return
	}
	m.free = append(m.free, a)
}

// reuse returns a recycled array of the kind with n elements, zeroed and
// given the shape (its own kept if shape is nil), or nil. The most
// recently recycled match is taken: loops recycle and allocate in the same
// order each iteration.
func (m *Machine) reuse(kind Elem, n int, shape []int) *Array {
	a := m.take(kind, n)
	if a == nil {
		return nil
	}
	clear(a.F)
	clear(a.I)
	clear(a.B)
	clear(a.Box)
	if shape != nil {
		a.Shape = shape
	}
	return a
}

// take removes a recycled array of the kind with n elements from m's list
// and returns it as it is, or returns nil.
func (m *Machine) take(kind Elem, n int) *Array {
	if m == nil {
		return nil
	}
	for i := len(m.free) - 1; i >= 0; i-- {
		a := m.free[i]
		if a.Kind != kind || storageLen(a) != n {
			continue
		}
		last := len(m.free) - 1
		m.free[i] = m.free[last]
		m.free[last] = nil
		m.free = m.free[:last]
		return a
	}
	return nil
}

func storageLen(a *Array) int {
	switch a.Kind {
	case ElemF64:
		return len(a.F)
	case ElemI64:
		return len(a.I)
	case ElemBool:
		return len(a.B)
	}
	return len(a.Box)
}

// NewVec makes a zero 1-D array of n elements of the kind, charging m,
// with a recycled array when there is one (whose shape [n] is kept).
// Unlike New it takes no shape slice, so a call allocates nothing once
// the array is recycled.
func NewVec(m *Machine, kind Elem, n int) (*Array, error) {
	return vecFrom(m, m.reuse(kind, n, nil), kind, n)
}

// NewVecToFill is NewVec for a caller that writes every element before
// anything reads one (a fused elementwise kernel): a recycled array comes
// with its old contents, since zeroing it would be wasted work.
func NewVecToFill(m *Machine, kind Elem, n int) (*Array, error) {
	return vecFrom(m, m.take(kind, n), kind, n)
}

// NewToFill is NewVecToFill for any shape, which it does not retain: a
// recycled array of the same shape keeps its own, so that a matrix
// result built in offered storage allocates nothing either.
func NewToFill(m *Machine, kind Elem, shape []int) (*Array, error) {
	if n, err := CheckShape(shape); err == nil {
		if a := m.take(kind, n); a != nil {
			if !SameShape(a.Shape, shape) {
				a.Shape = slices.Clone(shape)
			}
			return a, nil
		}
	}
	return New(m, kind, slices.Clone(shape)...)
}

// vecFrom gives a recycled array a, if not nil, the shape [n], or
// allocates a new vector.
func vecFrom(m *Machine, a *Array, kind Elem, n int) (*Array, error) {
	if a != nil {
		if len(a.Shape) != 1 || a.Shape[0] != n {
			a.Shape = []int{n}
		}
		return a, nil
	}
	per := int64(8)
	switch kind {
	case ElemBool:
		per = 1
	case ElemBox:
		per = 32
	}
	if _, err := CheckShape([]int{n}); err != nil {
		return nil, err
	}
	bytes := int64(n) * per
	if err := m.Alloc(bytes); err != nil {
		return nil, err
	}
	if kind == ElemF64 && n > 0 && n <= maxSmallVec {
		a = smallVecF64(n)
		track(m, a.F, bytes)
		return a, nil
	}
	v := &vec{}
	v.shape[0] = n
	a = &v.Array
	a.Shape, a.Kind = v.shape[:], kind
	switch kind {
	case ElemF64:
		a.F = make([]float64, n)
		track(m, a.F, bytes)
	case ElemI64:
		a.I = make([]int64, n)
		track(m, a.I, bytes)
	case ElemBool:
		a.B = make([]bool, n)
		track(m, a.B, bytes)
	default:
		a.Box = make([]Value, n)
		track(m, a.Box, bytes)
	}
	return a, nil
}

// vec is a 1-D array allocated with its shape.
type vec struct {
	Array
	shape [1]int
}

// Small f64 vectors (a gate of an LSTM, a point of a GMM) are allocated
// with their elements in the same object as their header: one allocation
// instead of two, for the vectors a reverse pass saves by the thousand.
// The elements are capped at n, so nothing appends into the spare room.
const maxSmallVec = 32

type (
	vecF2 struct {
		vec
		d [2]float64
	}
	vecF4 struct {
		vec
		d [4]float64
	}
	vecF8 struct {
		vec
		d [8]float64
	}
	vecF16 struct {
		vec
		d [16]float64
	}
	vecF32 struct {
		vec
		d [32]float64
	}
)

// smallVecF64 returns a zero f64 vector of n elements, 0 < n <= maxSmallVec,
// in one allocation.
func smallVecF64(n int) *Array {
	var v *vec
	var f []float64
	switch {
	case n <= 2:
		s := &vecF2{}
		v, f = &s.vec, s.d[:n:n]
	case n <= 4:
		s := &vecF4{}
		v, f = &s.vec, s.d[:n:n]
	case n <= 8:
		s := &vecF8{}
		v, f = &s.vec, s.d[:n:n]
	case n <= 16:
		s := &vecF16{}
		v, f = &s.vec, s.d[:n:n]
	default:
		s := &vecF32{}
		v, f = &s.vec, s.d[:n:n]
	}
	v.shape[0] = n
	a := &v.Array
	a.Shape, a.Kind, a.F = v.shape[:], ElemF64, f
	return a
}

// Row returns element i of a's outer dimension (a has rank at least 2) as
// a view whose header comes from m's pool of headers: a row that the
// evaluator knows dies soon (an operand of a product) costs no
// allocation. Give the header back with ReleaseRow.
func (m *Machine) Row(a *Array, i int) *Array {
	var b *Array
	if m != nil && len(m.rows) > 0 {
		b = m.rows[len(m.rows)-1]
		m.rows = m.rows[:len(m.rows)-1]
	} else {
		b = &Array{}
	}
	a.rowInto(b, i)
	return b
}

// ReleaseRow returns the header of a view made by Row; the caller
// guarantees that nothing refers to the header any more (the storage it
// viewed is not affected).
func (m *Machine) ReleaseRow(b *Array) {
	if m == nil || b == nil || len(m.rows) >= maxRecycled {
		return
	}
	*b = Array{}
	m.rows = append(m.rows, b)
}

// Reset readies m for a new call under ctx and lim, as NewMachine would
// make it, keeping only the capacity of its bookkeeping and the headers
// ReleaseRow gave back (they refer to nothing): an evaluator that pools
// machines then starts a call without allocating. Recycled arrays are
// dropped, so storage of one call never serves another. The caller
// guarantees that nothing still uses m.
func (m *Machine) Reset(ctx context.Context, lim Limits) {
	if ctx == nil {
		ctx = context.Background()
	}
	m.Ctx, m.Limits, m.steps = ctx, lim, 0
	clear(m.free)
	m.free = m.free[:0]
	if m.mem.limit != 0 || len(m.mem.tracked) != 0 {
		// Only a call that allocated set the meter up: a scalar call
		// skips clearing it.
		tracked := m.mem.tracked
		clear(tracked)
		m.mem = memMeter{tracked: tracked[:0]}
	}
}

// DropRecycled removes from the arrays m holds for reuse those drop
// reports, so that this call never hands them out again: their storage is
// about to serve something else (the interpreter's tape chunks, recycled
// across calls).
func (m *Machine) DropRecycled(drop func(*Array) bool) {
	if m == nil {
		return
	}
	m.free = slices.DeleteFunc(m.free, drop)
}

// Offer puts a, storage the caller of an evaluation owns, first in line
// for the next allocation of its kind and size, as Recycle does for a
// dead array: an evaluation can then build its result in the caller's
// buffer. The caller guarantees that no value of the call refers to a's
// storage (no argument shares it).
func (m *Machine) Offer(a *Array) { m.Recycle(a) }

// SwapRecycled replaces the arrays m holds for reuse with free and
// returns the ones it held. An evaluation whose result outlives the call
// (a value def's cached value) runs between two swaps, so that it never
// takes storage offered for the call's own result.
func (m *Machine) SwapRecycled(free []*Array) []*Array {
	old := m.free
	m.free = free
	return old
}
