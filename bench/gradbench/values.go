package gradbench

import (
	"errors"
	"fmt"
	"math"
	"strconv"

	"github.com/nabla-lang/nabla/runtime"
)

// Conversions between the evals' JSON shapes and interpreter values.
// Arrays are built flat in row-major order, the interpreter's own layout,
// so a converted input is passed to every run without copying.

func f64v(x float64) runtime.Value { return runtime.F64(x) }
func i64v(x int) runtime.Value     { return runtime.I64(int64(x)) }

func vec(xs []float64) runtime.Value {
	if xs == nil {
		xs = []float64{}
	}
	return runtime.Arr(runtime.FromF64(xs))
}

func ivec(xs []int64) runtime.Value {
	if xs == nil {
		xs = []int64{}
	}
	return runtime.Arr(runtime.FromI64(xs))
}

// f64Matrix converts rows to an [len(rows)][cols]f64 array; every row must have
// cols elements (cols is given so that an empty matrix has a shape).
func f64Matrix(name string, rows [][]float64, cols int) (runtime.Value, error) {
	flat := make([]float64, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return runtime.Value{}, fmt.Errorf("%s[%d] has %d elements, want %d", name, i, len(r), cols)
		}
		flat = append(flat, r...)
	}
	return runtime.Arr(&runtime.Array{Shape: []int{len(rows), cols}, Kind: runtime.ElemF64, F: flat}), nil
}

// i64Matrix is f64Matrix for integer matrices.
func i64Matrix(name string, rows [][]int64, cols int) (runtime.Value, error) {
	flat := make([]int64, 0, len(rows)*cols)
	for i, r := range rows {
		if len(r) != cols {
			return runtime.Value{}, fmt.Errorf("%s[%d] has %d elements, want %d", name, i, len(r), cols)
		}
		flat = append(flat, r...)
	}
	return runtime.Arr(&runtime.Array{Shape: []int{len(rows), cols}, Kind: runtime.ElemI64, F: nil, I: flat}), nil
}

// f64Matrices converts a list of r×c matrices to a [len(ms)][r][c]f64 array.
func f64Matrices(name string, ms [][][]float64, r, c int) (runtime.Value, error) {
	flat := make([]float64, 0, len(ms)*r*c)
	for k, m := range ms {
		if len(m) != r {
			return runtime.Value{}, fmt.Errorf("%s[%d] has %d rows, want %d", name, k, len(m), r)
		}
		for i, row := range m {
			if len(row) != c {
				return runtime.Value{}, fmt.Errorf("%s[%d][%d] has %d elements, want %d", name, k, i, len(row), c)
			}
			flat = append(flat, row...)
		}
	}
	return runtime.Arr(&runtime.Array{Shape: []int{len(ms), r, c}, Kind: runtime.ElemF64, F: flat}), nil
}

// width is the common length of rows, or def if there are none.
func width[T any](rows [][]T, def int) int {
	if len(rows) == 0 {
		return def
	}
	return len(rows[0])
}

// f64Array returns v's array if it holds f64 elements of the given rank.
func f64Array(v runtime.Value, rank int) (*runtime.Array, error) {
	a := v.Array()
	if a == nil || a.Kind != runtime.ElemF64 || len(a.Shape) != rank {
		return nil, fmt.Errorf("result is not a rank-%d f64 array", rank)
	}
	return a, nil
}

// tuple returns v's n elements.
func tuple(v runtime.Value, n int) ([]runtime.Value, error) {
	t := v.Tuple()
	if len(t) != n {
		return nil, fmt.Errorf("result is not a tuple of %d", n)
	}
	return t, nil
}

var errNonFinite = errors.New("the result has a NaN or infinite number, which JSON cannot carry")

// appendFloat appends x in the shortest form that reads back exactly.
func appendFloat(b []byte, x float64) ([]byte, error) {
	if math.IsNaN(x) || math.IsInf(x, 0) {
		return b, errNonFinite
	}
	return strconv.AppendFloat(b, x, 'g', -1, 64), nil
}

// appendFloats appends xs as a JSON list.
func appendFloats(b []byte, xs []float64) ([]byte, error) {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		var err error
		if b, err = appendFloat(b, x); err != nil {
			return b, err
		}
	}
	return append(b, ']'), nil
}

// appendInts appends xs as a JSON list.
func appendInts(b []byte, xs []int) []byte {
	b = append(b, '[')
	for i, x := range xs {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendInt(b, int64(x), 10)
	}
	return append(b, ']')
}

// appendArray appends an f64 array of any rank as nested JSON lists.
func appendArray(b []byte, a *runtime.Array) ([]byte, error) {
	if a.Kind != runtime.ElemF64 {
		return b, fmt.Errorf("result is not an f64 array")
	}
	var rec func(b []byte, shape []int, xs []float64) ([]byte, error)
	rec = func(b []byte, shape []int, xs []float64) ([]byte, error) {
		if len(shape) == 1 {
			return appendFloats(b, xs[:shape[0]])
		}
		inner := runtime.Size(shape[1:])
		b = append(b, '[')
		for i := range shape[0] {
			if i > 0 {
				b = append(b, ',')
			}
			var err error
			if b, err = rec(b, shape[1:], xs[i*inner:(i+1)*inner]); err != nil {
				return b, err
			}
		}
		return append(b, ']'), nil
	}
	if len(a.Shape) == 0 {
		return b, fmt.Errorf("result is a rank-0 array")
	}
	return rec(b, a.Shape, a.F)
}

// Encoders shared by several evals.

func encodeNumber(b []byte, v runtime.Value, _ *input) ([]byte, error) {
	return appendFloat(b, v.F)
}

func encodeArray(b []byte, v runtime.Value, _ *input) ([]byte, error) {
	a := v.Array()
	if a == nil {
		return b, fmt.Errorf("result is not an array")
	}
	return appendArray(b, a)
}

// encodeFlat writes an f64 array of any rank, or a tuple of them, as one
// flat list, row after row and element after element.
func encodeFlat(b []byte, v runtime.Value, _ *input) ([]byte, error) {
	parts := []runtime.Value{v}
	if t := v.Tuple(); t != nil {
		parts = t
	}
	b = append(b, '[')
	first := true
	for _, p := range parts {
		a := p.Array()
		if a == nil || a.Kind != runtime.ElemF64 {
			return b, fmt.Errorf("result is not made of f64 arrays")
		}
		for _, x := range a.F[:a.N()] {
			if !first {
				b = append(b, ',')
			}
			first = false
			var err error
			if b, err = appendFloat(b, x); err != nil {
				return b, err
			}
		}
	}
	return append(b, ']'), nil
}
