package runtime

import "fmt"

// Kernels of the array primitives. The flat kernels are generic over the
// element type of the storage (float64, int64, bool, or Value for boxed
// elements) and see an array as rows of row (or block) flat elements,
// which is how generated code holds arrays of arrays. The *Array forms
// below them pick the storage by Kind, for the interpreter, whose values
// carry their kind at run time.
//
// Checks come first, as functions of their own that return the errors a
// program sees (CheckSize, CheckIndex, ...); the kernels then assume valid
// sizes and indices, so a violation panics as a bug in the caller.

// MaxElems bounds the size of one array. It keeps byte counts (elements
// times 32 for boxed arrays) far from int64 overflow, so that the memory
// limit is always charged correctly; nothing that large fits in memory.
const MaxElems = 1 << 50

// CheckSize validates an array size computed by the program. A size too
// large for any memory, or (after SetArrayLimit) for the array limit, is
// an error that matches ErrMemoryLimit.
func CheckSize(n int64) (int, error) {
	if n < 0 {
		return 0, fmt.Errorf("negative size %d", n)
	}
	if n > MaxElems {
		return 0, TooLarge("size %d is too large", n)
	}
	if lim := arrayLimit.Load(); lim > 0 && n > lim/8 {
		return 0, CheckBytes(n*8, lim)
	}
	return int(n), nil
}

// MulSize is the size of n rows of rs elements each, checked as
// CheckSize does.
func MulSize(n, rs int) (int, error) {
	if rs > 0 && n > MaxElems/rs {
		return 0, TooLarge("size %d×%d is too large", n, rs)
	}
	return CheckSize(int64(n) * int64(rs))
}

// DimMessage words a failed size check of a declared result or a loop
// state (ir's check_dim): what is checked, the type that fixes its size as
// written ("[n]f64"), that size as the type writes it ("n", "3", or ""
// when it is the initial value's), and the sizes found and required.
func DimMessage(what, typ, size string, got, want int64) string {
	switch {
	case size == "":
		return fmt.Sprintf("size mismatch: %s has size %d, but it must keep the size %d of its initial value", what, got, want)
	case size == fmt.Sprint(want):
		return fmt.Sprintf("size mismatch: %s has size %d, but its type %s says %d", what, got, typ, want)
	}
	return fmt.Sprintf("size mismatch: %s has size %d, but its type %s says %s = %d", what, got, typ, size, want)
}

// CheckIndex checks an index into n rows.
func CheckIndex(i int64, n int) error {
	if i < 0 || i >= int64(n) {
		return fmt.Errorf("index %d out of range [0, %d)", i, n)
	}
	return nil
}

// CheckIndices checks every index of a gather into n rows, reporting the
// first bad one.
func CheckIndices(idx []int64, n int) error {
	for _, i := range idx {
		if err := CheckIndex(i, n); err != nil {
			return err
		}
	}
	return nil
}

// CheckSlice checks the bounds of a[lo:hi] for n rows.
func CheckSlice(lo, hi int64, n int) error {
	if lo < 0 || hi < lo || hi > int64(n) {
		return fmt.Errorf("slice [%d:%d] out of range for length %d", lo, hi, n)
	}
	return nil
}

// CheckCount checks the k of take or drop (name) for n rows: 0 ≤ k ≤ n.
func CheckCount(name string, k int64, n int) error {
	if k < 0 || k > int64(n) {
		return fmt.Errorf("%s: count %d out of range [0, %d]", name, k, n)
	}
	return nil
}

// CheckReshape checks that n elements fill a rows×cols matrix.
func CheckReshape(n, rows, cols int64) error {
	if rows < 0 || cols < 0 || (cols == 0 && n != 0) || (cols != 0 && (n%cols != 0 || n/cols != rows)) {
		return fmt.Errorf("cannot reshape %d elements to [%d][%d]", n, rows, cols)
	}
	return nil
}

// Iota stores 0, 1, ..., len(dst)-1 in dst.
func Iota(dst []int64) { IotaFrom(dst, 0) }

// IotaFrom stores start, start+1, ... in dst: a piece of a longer iota.
func IotaFrom(dst []int64, start int64) {
	for i := range dst {
		dst[i] = start + int64(i)
	}
}

// Fill stores v in every element of dst.
func Fill[T any](dst []T, v T) {
	for i := range dst {
		dst[i] = v
	}
}

// Gather stores row idx[j] of src in row j of dst, for rows of row flat
// elements: len(dst) = len(idx)·row. The indices must have passed
// CheckIndices.
func Gather[T any](dst, src []T, idx []int64, row int) {
	checkLen("Gather", len(dst), len(idx)*row)
	if row == 1 {
		for j, i := range idx {
			dst[j] = src[i]
		}
		return
	}
	for j, i := range idx {
		copy(dst[j*row:(j+1)*row], src[int(i)*row:(int(i)+1)*row])
	}
}

// Reverse stores src's rows (of row flat elements) in reverse order in
// dst, which must not overlap src.
func Reverse[T any](dst, src []T, row int) {
	checkLen("Reverse", len(dst), len(src))
	if row == 0 {
		return
	}
	n := len(src) / row
	if row == 1 {
		for i, v := range src {
			dst[n-1-i] = v
		}
		return
	}
	for i := 0; i < n; i++ {
		j := n - 1 - i
		copy(dst[i*row:(i+1)*row], src[j*row:(j+1)*row])
	}
}

// transposeTile is the side of the square tiles Transpose works in, so
// that both the rows read and the rows written stay in cache.
const transposeTile = 32

// Transpose stores the transpose of src, a rows×cols matrix of blocks of
// block flat elements each, in dst (cols×rows blocks): block (j, i) of dst
// is block (i, j) of src. dst must not overlap src.
func Transpose[T any](dst, src []T, rows, cols, block int) {
	checkLen("Transpose", rows*cols*block, len(src), len(dst))
	transposeRows(dst, src, rows, cols, block, 0, rows)
}

// transposeRows is Transpose for the rows lo to hi-1 of src; single
// elements go tile by tile.
func transposeRows[T any](dst, src []T, rows, cols, block, lo, hi int) {
	if block != 1 {
		for i := lo; i < hi; i++ {
			for j := 0; j < cols; j++ {
				d, s := j*rows+i, i*cols+j
				copy(dst[d*block:(d+1)*block], src[s*block:(s+1)*block])
			}
		}
		return
	}
	for i0 := lo; i0 < hi; i0 += transposeTile {
		i1 := min(i0+transposeTile, hi)
		for j0 := 0; j0 < cols; j0 += transposeTile {
			j1 := min(j0+transposeTile, cols)
			for i := i0; i < i1; i++ {
				for j := j0; j < j1; j++ {
					dst[j*rows+i] = src[i*cols+j]
				}
			}
		}
	}
}

// Column stores column i of src, seen as rows of n blocks of block flat
// elements, in dst: block j of dst is block j·n + i of src. It reads one
// element of every coefficient of a series of an array.
func Column[T any](dst, src []T, n, i, block int) {
	k := len(dst)
	if block != 0 {
		k = len(dst) / block
	}
	checkLen("Column", k*n*block, len(src))
	if block == 1 {
		for j := range dst {
			dst[j] = src[j*n+i]
		}
		return
	}
	for j := 0; j < k; j++ {
		s := j*n + i
		copy(dst[j*block:(j+1)*block], src[s*block:(s+1)*block])
	}
}

// The *Array forms of the kernels. dst and src have the same Kind; the
// row size is src's.

// GatherArray gathers the rows idx of src into dst.
func GatherArray(dst, src *Array, idx []int64) {
	rs := src.RowSize()
	switch src.Kind {
	case ElemF64:
		Gather(dst.F, src.F, idx, rs)
	case ElemI64:
		Gather(dst.I, src.I, idx, rs)
	case ElemBool:
		Gather(dst.B, src.B, idx, rs)
	default:
		Gather(dst.Box, src.Box, idx, rs)
	}
}

// ReverseArray stores src's rows in reverse order in dst.
func ReverseArray(dst, src *Array) { _ = ReverseArrayPolled(nil, dst, src) }

// ReverseArrayPolled is ReverseArray under m, in pieces of rows: rows lo
// to hi-1 of dst are rows n-hi to n-lo-1 of src, reversed.
func ReverseArrayPolled(m *Machine, dst, src *Array) error {
	n, rs := src.Len(), src.RowSize()
	return Pieces(m, n, max(rs, 1), func(lo, hi int) error {
		d, s := dst, src
		if hi-lo < n {
			d, s = dst.Slice(lo, hi), src.Slice(n-hi, n-lo)
		}
		switch src.Kind {
		case ElemF64:
			Reverse(d.F, s.F, rs)
		case ElemI64:
			Reverse(d.I, s.I, rs)
		case ElemBool:
			Reverse(d.B, s.B, rs)
		default:
			Reverse(d.Box, s.Box, rs)
		}
		return nil
	})
}

// TransposeArray swaps the two outer axes of src, an [m][n]T, into dst;
// T may itself be an array, whose elements move as blocks.
func TransposeArray(dst, src *Array) { _ = TransposeArrayPolled(nil, dst, src) }

// TransposeArrayPolled is TransposeArray under m, in pieces of src's rows.
func TransposeArrayPolled(m *Machine, dst, src *Array) error {
	rows, cols, bs := src.Shape[0], src.Shape[1], Size(src.Shape[2:])
	return Pieces(m, rows, max(cols*bs, 1), func(lo, hi int) error {
		switch src.Kind {
		case ElemF64:
			transposeRows(dst.F, src.F, rows, cols, bs, lo, hi)
		case ElemI64:
			transposeRows(dst.I, src.I, rows, cols, bs, lo, hi)
		case ElemBool:
			transposeRows(dst.B, src.B, rows, cols, bs, lo, hi)
		default:
			transposeRows(dst.Box, src.Box, rows, cols, bs, lo, hi)
		}
		return nil
	})
}

// ColumnArray stores element i of every row of src, a [k][n]T, in dst, a
// [k]T.
func ColumnArray(dst, src *Array, i int) { _ = ColumnArrayPolled(nil, dst, src, i) }

// ColumnArrayPolled is ColumnArray under m, in pieces of src's rows.
func ColumnArrayPolled(m *Machine, dst, src *Array, i int) error {
	k, n, bs := src.Len(), src.Shape[1], Size(src.Shape[2:])
	return Pieces(m, k, max(bs, 1), func(lo, hi int) error {
		d, s := dst, src
		if hi-lo < k {
			d, s = dst.Slice(lo, hi), src.Slice(lo, hi)
		}
		switch src.Kind {
		case ElemF64:
			Column(d.F, s.F, n, i, bs)
		case ElemI64:
			Column(d.I, s.I, n, i, bs)
		case ElemBool:
			Column(d.B, s.B, n, i, bs)
		default:
			Column(d.Box, s.Box, n, i, bs)
		}
		return nil
	})
}

// CopyFlat copies src's elements into dst starting at flat offset off:
// the two halves of a concatenation, or rows placed into a zero.
func CopyFlat(dst *Array, off int, src *Array) {
	switch src.Kind {
	case ElemF64:
		copy(dst.F[off:], src.F)
	case ElemI64:
		copy(dst.I[off:], src.I)
	case ElemBool:
		copy(dst.B[off:], src.B)
	default:
		copy(dst.Box[off:], src.Box)
	}
}

// Stacker assembles n values of one element type into an array: the
// results of build, map and scan, the elements of an array literal or of
// fill, a column of unzip. Scalars fill flat storage, tuples and functions
// boxed storage, and arrays become rows, which must all have the shape of
// the first.
type Stacker struct {
	Name string // the primitive, for errors
	Kind Elem   // the storage of the result
	Rows bool   // the elements are arrays
	// Empty is the row shape of an empty result, which has no first row
	// to take it from: the static sizes, 0 where unknown.
	Empty []int
}

// Stack calls get(0), ..., get(n-1) in order and stores the results in an
// array allocated under m once the first row's shape is known.
func (st Stacker) Stack(m *Machine, n int, get func(i int) (Value, error)) (*Array, error) {
	if n == 0 {
		return New(m, st.Kind, append([]int{0}, st.Empty...)...)
	}
	var out *Array
	var row []int
	work, rowWork := 0, 1 // elements stored since the context was last looked at, and per row
	for i := 0; i < n; i++ {
		if work >= PollChunk {
			if err := m.Poll(); err != nil {
				return nil, err
			}
			work = 0
		}
		v, err := get(i)
		if err != nil {
			return nil, err
		}
		if st.Rows {
			r := v.Array()
			if out != nil && !SameShape(r.Shape, row) {
				return nil, fmt.Errorf("%s: element %d has shape %s, element 0 has shape %s", st.Name, i, ShapeString(r.Shape), ShapeString(row))
			}
			row = r.Shape
		}
		if out == nil {
			if _, err := MulSize(n, Size(row)); err != nil {
				return nil, err
			}
			if out, err = New(m, st.Kind, append([]int{n}, row...)...); err != nil {
				return nil, err
			}
			rowWork = max(Size(row), 1)
		}
		out.SetRow(i, v)
		work += rowWork
	}
	return out, nil
}

// Zip stores in dst[i] the tuple of element i of each array; the arrays
// have len(dst) rows.
func Zip(dst []Value, arrays []*Array) { _ = ZipPolled(nil, dst, arrays) }

// ZipPolled is Zip under m, in pieces of rows.
func ZipPolled(m *Machine, dst []Value, arrays []*Array) error {
	cost := 0
	for _, a := range arrays {
		cost += max(a.RowSize(), 1)
	}
	return Pieces(m, len(dst), cost, func(lo, hi int) error {
		for i := lo; i < hi; i++ {
			t := make(Tuple, len(arrays))
			for j, a := range arrays {
				t[j] = a.At(i)
			}
			dst[i] = Value{R: t}
		}
		return nil
	})
}

// Unzip splits the tuples src into one array per component, each stacked
// by its Stacker, allocating under m.
func Unzip(m *Machine, src []Value, cols []Stacker) (Tuple, error) {
	out := make(Tuple, len(cols))
	for j, st := range cols {
		col, err := st.Stack(m, len(src), func(i int) (Value, error) {
			return src[i].Tuple()[j], nil
		})
		if err != nil {
			return nil, err
		}
		out[j] = Arr(col)
	}
	return out, nil
}

// ZeroLike makes a fresh zero with v's type and shape under m: zero
// scalars, zero arrays, and tuples and boxed arrays of zeros.
func ZeroLike(m *Machine, v Value) (Value, error) {
	switch r := v.R.(type) {
	case *Array:
		if r.Kind == ElemBox {
			out, err := NewBox(m, append([]int(nil), r.Shape...)...)
			if err != nil {
				return Value{}, err
			}
			for i, e := range r.Box {
				if out.Box[i], err = ZeroLike(m, e); err != nil {
					return Value{}, err
				}
			}
			return Arr(out), nil
		}
		out, err := New(m, r.Kind, append([]int(nil), r.Shape...)...)
		return Arr(out), err
	case Tuple:
		out := make(Tuple, len(r))
		for i, e := range r {
			z, err := ZeroLike(m, e)
			if err != nil {
				return Value{}, err
			}
			out[i] = z
		}
		return Value{R: out}, nil
	}
	return Value{}, nil
}

// SumI64 is Σ x[i], wrapping on overflow; 0 for no elements.
func SumI64(x []int64) int64 {
	var s int64
	for _, v := range x {
		s += v
	}
	return s
}

// ProdI64 is Π x[i], wrapping on overflow; 1 for no elements.
func ProdI64(x []int64) int64 {
	p := int64(1)
	for _, v := range x {
		p *= v
	}
	return p
}

// MaxI64 is the largest element. With no elements there is no value to
// return (i64 has no infinity), so that is an error.
func MaxI64(x []int64) (int64, error) {
	if len(x) == 0 {
		return 0, fmt.Errorf("maximum of an empty i64 array")
	}
	m := x[0]
	for _, v := range x[1:] {
		if v > m {
			m = v
		}
	}
	return m, nil
}

// MinI64 is the smallest element; no elements is an error.
func MinI64(x []int64) (int64, error) {
	if len(x) == 0 {
		return 0, fmt.Errorf("minimum of an empty i64 array")
	}
	m := x[0]
	for _, v := range x[1:] {
		if v < m {
			m = v
		}
	}
	return m, nil
}

// ArgMaxI64 is the index of the first largest element, or -1 for no
// elements.
func ArgMaxI64(x []int64) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// ArgMinI64 is the index of the first smallest element, or -1 for no
// elements.
func ArgMinI64(x []int64) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	for i, v := range x {
		if v < x[best] {
			best = i
		}
	}
	return best
}

// Mean is Sum(x)/len(x); the mean of no elements is NaN (0/0), as numpy's.
func Mean(x []float64) float64 { return Sum(x) / float64(len(x)) }

// Outer stores the outer product x yᵀ in dst, row-major:
// len(dst) = len(x)·len(y).
func Outer(dst, x, y []float64) {
	n := len(y)
	checkLen("Outer", len(dst), len(x)*n)
	for i, xi := range x {
		ScaleTo(dst[i*n:(i+1)*n], xi, y)
	}
}

// OuterAddTo adds the outer product of x and y to dst (len(x)×len(y)),
// each product rounded before its add, so dst ends as dst + Outer(x, y)
// does to the bit, without the product matrix.
func OuterAddTo(dst, x, y []float64) {
	n := len(y)
	checkLen("OuterAddTo", len(dst), len(x)*n)
	for i, xi := range x {
		row := dst[i*n : (i+1)*n]
		AxpyTo(row, xi, y, row)
	}
}

// MatMul stores the product of a (m×k) and b (k×n) in c (m×n).
func MatMul(c, a, b []float64, m, k, n int) { Gemm(false, false, m, n, k, 1, a, b, 0, c) }

// MatVec stores the product of a (m×k) and x (k) in y (m).
func MatVec(y, a, x []float64, m, k int) { Gemv(false, m, k, 1, a, x, 0, y) }

// VecMat stores the product of x (k) and b (k×n) in y (n), as bᵀx,
// without forming the transpose.
func VecMat(y, x, b []float64, k, n int) { Gemv(true, k, n, 1, b, x, 0, y) }

// vecMatCols stores elements [lo, hi) of the product of x (k) and b (k×n)
// in y (n): VecMat a block of columns at a time, with the same bits, as
// every column is its own chain over k.
func vecMatCols(y, x, b []float64, k, n, lo, hi int) {
	clear(y[lo:hi])
	if k == 0 || lo >= hi {
		return
	}
	if (hi-lo)*k < gemvParallelMin {
		for c := lo; c < hi; c += gemvTCols {
			gemvCols(active, k, n, 1, b, x, y, c, min(c+gemvTCols, hi))
		}
		return
	}
	t := getVecTask()
	t.op, t.ks, t.m, t.n, t.a, t.mat, t.x, t.y, t.off = vecGemvCols, active, k, n, 1, b, x, y, lo
	t.run(hi-lo, gemvTCols)
}
