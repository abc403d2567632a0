package runtime

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
// given the shape (its own kept if shape is nil), or nil. The most recently recycled match is taken: loops recycle and
// allocate in the same order each iteration.
func (m *Machine) reuse(kind Elem, n int, shape []int) *Array {
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
		clear(a.F)
		clear(a.I)
		clear(a.B)
		clear(a.Box)
		if shape != nil {
			a.Shape = shape
		}
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
	per := int64(8)
	switch kind {
	case ElemBool:
		per = 1
	case ElemBox:
		per = 32
	}
	if a := m.reuse(kind, n, nil); a != nil {
		if len(a.Shape) != 1 || a.Shape[0] != n {
			a.Shape = []int{n}
		}
		return a, nil
	}
	if _, err := CheckShape([]int{n}); err != nil {
		return nil, err
	}
	bytes := int64(n) * per
	if err := m.Alloc(bytes); err != nil {
		return nil, err
	}
	v := &vec{}
	v.shape[0] = n
	a := &v.Array
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
