package runtime

import "fmt"

// Elem is the element kind of an Array.
type Elem uint8

const (
	ElemF64  Elem = iota // F holds the elements
	ElemI64              // I holds the elements
	ElemBool             // B holds the elements
	ElemBox              // Box holds the elements (tuples, functions)
)

// Array is a rectangular array stored flat in row-major order. Shape has
// one entry per dimension; exactly one of F, I, B, Box is used, by Kind.
// Arrays are immutable once built: operations return new arrays, and rows
// may share storage with the array they come from.
type Array struct {
	Shape []int
	Kind  Elem
	F     []float64
	I     []int64
	B     []bool
	Box   []Value
}

// NewF64 makes a zero f64 array of the given shape, charging m. The size
// is checked (against overflow, and against m's memory limit) before
// anything is allocated.
func NewF64(m *Machine, shape ...int) (*Array, error) {
	if n, err := CheckShape(shape); err == nil {
		if a := m.reuse(ElemF64, n, shape); a != nil {
			return a, nil
		}
	}
	f, err := newSlice[float64](m, shape, 8)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Kind: ElemF64, F: f}, nil
}

// NewI64 makes a zero i64 array.
func NewI64(m *Machine, shape ...int) (*Array, error) {
	if n, err := CheckShape(shape); err == nil {
		if a := m.reuse(ElemI64, n, shape); a != nil {
			return a, nil
		}
	}
	i, err := newSlice[int64](m, shape, 8)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Kind: ElemI64, I: i}, nil
}

// NewBool makes a false bool array.
func NewBool(m *Machine, shape ...int) (*Array, error) {
	if n, err := CheckShape(shape); err == nil {
		if a := m.reuse(ElemBool, n, shape); a != nil {
			return a, nil
		}
	}
	b, err := newSlice[bool](m, shape, 1)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Kind: ElemBool, B: b}, nil
}

// NewBox makes an array of boxed elements (tuples, functions).
func NewBox(m *Machine, shape ...int) (*Array, error) {
	b, err := newSlice[Value](m, shape, 32)
	if err != nil {
		return nil, err
	}
	return &Array{Shape: shape, Kind: ElemBox, Box: b}, nil
}

// New makes a zero array of the given kind and shape.
func New(m *Machine, kind Elem, shape ...int) (*Array, error) {
	switch kind {
	case ElemF64:
		return NewF64(m, shape...)
	case ElemI64:
		return NewI64(m, shape...)
	case ElemBool:
		return NewBool(m, shape...)
	}
	return NewBox(m, shape...)
}

// FromF64 wraps a slice as a 1-D array without copying.
func FromF64(xs []float64) *Array {
	return &Array{Shape: []int{len(xs)}, Kind: ElemF64, F: xs}
}

// FromI64 wraps a slice as a 1-D array without copying.
func FromI64(xs []int64) *Array {
	return &Array{Shape: []int{len(xs)}, Kind: ElemI64, I: xs}
}

// Size is the number of elements of a shape whose size is known to be
// valid (CheckShape).
func Size(shape []int) int {
	n := 1
	for _, d := range shape {
		n *= d
	}
	return n
}

// Len is the outer size.
func (a *Array) Len() int { return a.Shape[0] }

// N is the total number of elements.
func (a *Array) N() int { return Size(a.Shape) }

// RowSize is the number of flat elements in one element of the outer
// dimension.
func (a *Array) RowSize() int { return Size(a.Shape[1:]) }

// Rank is the number of dimensions.
func (a *Array) Rank() int { return len(a.Shape) }

// Slice returns elements lo..hi of the outer dimension, sharing storage.
func (a *Array) Slice(lo, hi int) *Array {
	rs := a.RowSize()
	shape := append([]int{hi - lo}, a.Shape[1:]...)
	b := &Array{Shape: shape, Kind: a.Kind}
	switch a.Kind {
	case ElemF64:
		b.F = a.F[lo*rs : hi*rs : hi*rs]
	case ElemI64:
		b.I = a.I[lo*rs : hi*rs : hi*rs]
	case ElemBool:
		b.B = a.B[lo*rs : hi*rs : hi*rs]
	default:
		b.Box = a.Box[lo*rs : hi*rs : hi*rs]
	}
	return b
}

// View returns a new header for a's storage with another shape of as
// many elements: flatten and reshape share storage.
func (a *Array) View(shape []int) *Array {
	return &Array{Shape: shape, Kind: a.Kind, F: a.F, I: a.I, B: a.B, Box: a.Box}
}

// At returns element i of the outer dimension: a scalar for a 1-D array,
// a row (sharing storage) otherwise.
func (a *Array) At(i int) Value {
	if len(a.Shape) > 1 {
		return Arr(a.Slice(i, i+1).dropOuter())
	}
	switch a.Kind {
	case ElemF64:
		return F64(a.F[i])
	case ElemI64:
		return I64(a.I[i])
	case ElemBool:
		return Bool(a.B[i])
	}
	return a.Box[i]
}

func (a *Array) dropOuter() *Array {
	a.Shape = a.Shape[1:]
	return a
}

// SetFlat stores a scalar or boxed value at flat index i.
func (a *Array) SetFlat(i int, v Value) {
	switch a.Kind {
	case ElemF64:
		a.F[i] = v.F
	case ElemI64:
		a.I[i] = v.I
	case ElemBool:
		a.B[i] = v.I != 0
	default:
		a.Box[i] = v
	}
}

// SetRow copies v (a scalar, or an array of the row's shape) into element
// i of the outer dimension.
func (a *Array) SetRow(i int, v Value) {
	if len(a.Shape) == 1 {
		a.SetFlat(i, v)
		return
	}
	r := v.Array()
	rs := a.RowSize()
	switch a.Kind {
	case ElemF64:
		copy(a.F[i*rs:(i+1)*rs], r.F)
	case ElemI64:
		copy(a.I[i*rs:(i+1)*rs], r.I)
	case ElemBool:
		copy(a.B[i*rs:(i+1)*rs], r.B)
	default:
		copy(a.Box[i*rs:(i+1)*rs], r.Box)
	}
}

// Copy returns a fresh copy.
func (a *Array) Copy(m *Machine) (*Array, error) {
	b, err := New(m, a.Kind, append([]int(nil), a.Shape...)...)
	if err != nil {
		return nil, err
	}
	copy(b.F, a.F)
	copy(b.I, a.I)
	copy(b.B, a.B)
	copy(b.Box, a.Box)
	return b, nil
}

// SameShape reports whether two arrays have equal shapes.
func SameShape(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// ShapeString prints a shape as [2][3].
func ShapeString(shape []int) string {
	s := ""
	for _, d := range shape {
		s += fmt.Sprintf("[%d]", d)
	}
	return s
}
