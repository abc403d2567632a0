package runtime

import "math"

// Numeric kernels shared by the interpreter's primitives and by generated
// Go code. They work on flat []float64 slices (the storage of Array) so
// that the same call serves a whole array, a row view or a buffer that
// generated code reuses across iterations.
//
// Every kernel checks that its slices have the lengths it documents and
// panics otherwise: callers report size mismatches as Nabla errors before
// they get here, so a panic means a bug in the caller, not in the program
// being run. After the check the loops run over re-sliced operands, which
// lets the compiler drop per-element bounds checks.
//
// Dot, Sum, Axpy, Scale, the elementwise arithmetic and the matrix
// products run AVX2+FMA assembly on amd64 processors that have it and
// pure-Go loops elsewhere, with the same results to the last bit, and
// split large inputs between goroutines without changing a bit (see
// kernels_simd.go and matmul.go). The rest are plain Go loops.
//
// Sum and Dot accumulate in several partial sums in a fixed order, so
// results may differ from a naive left-to-right loop in the last bits;
// they are never less accurate.

func checkLen(name string, n int, lens ...int) {
	for _, l := range lens {
		if l != n {
			panic("runtime: " + name + ": slices of different lengths")
		}
	}
}

// Dot returns Σ x[i]·y[i]. x and y must have the same length.
func Dot(x, y []float64) float64 {
	checkLen("Dot", len(x), len(y))
	return dot(x, y)
}

func dot(x, y []float64) float64 { return dotWith(active, x, y) }

// Axpy computes y += a·x in place, the BLAS daxpy update that gradient
// accumulation and optimizer steps are made of. x and y must have the
// same length.
func Axpy(a float64, x, y []float64) {
	checkLen("Axpy", len(x), len(y))
	axpyWith(active, a, x, y)
}

// Scale multiplies x by a in place.
func Scale(a float64, x []float64) { mapVC(active.mulConst, x, x, a) }

// ScaleTo stores a·x in dst. dst and x must have the same length; they
// may be the same slice.
func ScaleTo(dst []float64, a float64, x []float64) {
	checkLen("ScaleTo", len(dst), len(x))
	mapVC(active.mulConst, dst, x, a)
}

// Sum returns Σ x[i]; the sum of no elements is 0.
func Sum(x []float64) float64 { return sumWith(active, x) }

// Prod returns Π x[i]; the product of no elements is 1.
func Prod(x []float64) float64 { return prodFrom(1, x) }

// prodFrom multiplies p by x[0], x[1], ... in turn.
func prodFrom(p float64, x []float64) float64 {
	for _, v := range x {
		p *= v
	}
	return p
}

// Max returns the largest element, or -Inf for no elements. A NaN anywhere
// makes the result NaN, as with max(x, y) and numpy's max, so that
// Max(x) agrees with reducing x by the max primitive.
func Max(x []float64) float64 {
	m := math.Inf(-1)
	for _, v := range x {
		if !(v <= m) {
			if v != v {
				return v
			}
			m = v
		}
	}
	return m
}

// Min returns the smallest element, or +Inf for no elements; NaN
// propagates as in Max.
func Min(x []float64) float64 {
	m := math.Inf(1)
	for _, v := range x {
		if !(v >= m) {
			if v != v {
				return v
			}
			m = v
		}
	}
	return m
}

// ArgMax returns the index of the first largest element, or -1 for no
// elements. A NaN counts as larger than every number (the first NaN wins),
// as in numpy, so that x[ArgMax(x)] is Max(x) also when Max is NaN.
func ArgMax(x []float64) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	m := x[0]
	if m != m {
		return 0
	}
	for i, v := range x {
		if !(v <= m) {
			if v != v {
				return i
			}
			best, m = i, v
		}
	}
	return best
}

// ArgMin returns the index of the first smallest element, or -1 for no
// elements; the first NaN wins as in ArgMax.
func ArgMin(x []float64) int {
	if len(x) == 0 {
		return -1
	}
	best := 0
	m := x[0]
	if m != m {
		return 0
	}
	for i, v := range x {
		if !(v >= m) {
			if v != v {
				return i
			}
			best, m = i, v
		}
	}
	return best
}

// norm2Small is the least sum of squares trusted from the fast path of
// Norm2. Below it, squares of tiny elements may have lost their precision
// in the subnormal range (each loses at most 2⁻¹⁰⁷⁵, so even 2⁴⁰ of them
// stay far below a relative 2⁻⁵⁰ of 2⁻⁹⁰⁰).
const norm2Small = 0x1p-900

// Norm2 returns the Euclidean norm √(Σ x[i]²) without overflow or
// underflow in the intermediate sum. It sums squares directly (fast, and
// exact enough) and only when that sum overflowed, underflowed or met a
// NaN or Inf does it rescale by the largest magnitude, as LAPACK's dnrm2
// does for every element. Norm2 is +Inf if any element is infinite and
// otherwise NaN if any is NaN.
func Norm2(x []float64) float64 {
	s := dot(x, x)
	if s >= norm2Small && s <= math.MaxFloat64 {
		return math.Sqrt(s)
	}
	if s == 0 && allZero(x) {
		return 0
	}
	return norm2Scaled(x)
}

func allZero(x []float64) bool {
	for _, v := range x {
		if v != 0 {
			return false
		}
	}
	return true
}

func norm2Scaled(x []float64) float64 {
	scale, inf, nan := norm2Scale(x)
	if r, done := norm2Special(scale, inf, nan); done {
		return r
	}
	return scale * math.Sqrt(sumScaledSquares(0, x, scale))
}

// norm2Scale finds the largest magnitude of x and whether x holds an
// infinity or a NaN.
func norm2Scale(x []float64) (scale float64, inf, nan bool) {
	for _, v := range x {
		a := math.Abs(v)
		switch {
		case math.IsInf(a, 1):
			return scale, true, nan
		case a != a:
			nan = true
		case a > scale:
			scale = a
		}
	}
	return scale, false, nan
}

// norm2Special is the norm when norm2Scale's findings decide it alone.
func norm2Special(scale float64, inf, nan bool) (float64, bool) {
	switch {
	case inf:
		return math.Inf(1), true
	case nan:
		return math.NaN(), true
	case scale == 0:
		return 0, true
	}
	return 0, false
}

// sumScaledSquares adds (x[i]/scale)² to s in turn.
func sumScaledSquares(s float64, x []float64, scale float64) float64 {
	for _, v := range x {
		r := v / scale
		s += r * r
	}
	return s
}

// LogSumExp returns log Σ exp(x[i]) without overflow, shifting by the
// largest element. It is -Inf for no elements or when all are -Inf, +Inf
// if any is +Inf, and NaN if any is NaN.
func LogSumExp(x []float64) float64 {
	m := Max(x)
	if math.IsInf(m, 0) || m != m {
		return m
	}
	return m + math.Log(sumExpFrom(0, x, m))
}

// sumExpFrom adds exp(x[i] - m) to s in turn.
func sumExpFrom(s float64, x []float64, m float64) float64 {
	for _, v := range x {
		s += math.Exp(v - m)
	}
	return s
}

// Softmax stores exp(x[i]) / Σ exp(x[j]) in dst, shifting by the largest
// element so no exp overflows. As in JAX, an x whose elements are all -Inf,
// or that holds +Inf or NaN, gives NaN everywhere. dst and x must have the
// same length; they may be the same slice.
func Softmax(dst, x []float64) {
	checkLen("Softmax", len(dst), len(x))
	s := expShiftFrom(0, dst, x, Max(x))
	ScaleTo(dst, 1/s, dst)
}

// expShiftFrom stores exp(x[i] - m) in dst[i] and adds it to s, in turn.
func expShiftFrom(s float64, dst, x []float64, m float64) float64 {
	x = x[:len(dst)]
	for i, v := range x {
		e := math.Exp(v - m)
		dst[i] = e
		s += e
	}
	return s
}

// AddTo stores x + y in dst. All three must have the same length; dst may
// be x or y.
func AddTo(dst, x, y []float64) {
	checkLen("AddTo", len(dst), len(x), len(y))
	mapVV(active.add, dst, x, y)
}

// SubTo stores x - y in dst; lengths as in AddTo.
func SubTo(dst, x, y []float64) {
	checkLen("SubTo", len(dst), len(x), len(y))
	mapVV(active.sub, dst, x, y)
}

// MulTo stores the elementwise product x * y in dst; lengths as in AddTo.
func MulTo(dst, x, y []float64) {
	checkLen("MulTo", len(dst), len(x), len(y))
	mapVV(active.mul, dst, x, y)
}

// DivTo stores the elementwise quotient x / y in dst (IEEE: x/0 is ±Inf or
// NaN); lengths as in AddTo.
func DivTo(dst, x, y []float64) {
	checkLen("DivTo", len(dst), len(x), len(y))
	mapVV(active.div, dst, x, y)
}

// AddConstTo stores x + c in dst. Subtracting a constant is AddConstTo
// with -c: IEEE x - c and x + (-c) are the same operation.
func AddConstTo(dst, x []float64, c float64) {
	checkLen("AddConstTo", len(dst), len(x))
	mapVC(active.addConst, dst, x, c)
}

// ConstSubTo stores c - x in dst.
func ConstSubTo(dst []float64, c float64, x []float64) {
	checkLen("ConstSubTo", len(dst), len(x))
	mapCV(active.constSub, dst, c, x)
}

// DivConstTo stores x / c in dst. It divides rather than multiplying by
// 1/c, which would round differently from the scalar operation.
func DivConstTo(dst, x []float64, c float64) {
	checkLen("DivConstTo", len(dst), len(x))
	mapVC(active.divConst, dst, x, c)
}

// ConstDivTo stores c / x in dst.
func ConstDivTo(dst []float64, c float64, x []float64) {
	checkLen("ConstDivTo", len(dst), len(x))
	mapCV(active.constDiv, dst, c, x)
}

// NegTo stores -x in dst.
func NegTo(dst, x []float64) {
	checkLen("NegTo", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = -v
	}
}

// ExpTo stores exp(x) in dst.
func ExpTo(dst, x []float64) {
	checkLen("ExpTo", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = math.Exp(v)
	}
}

// Gemv computes y = alpha·op(A)·x + beta·y for a dense row-major m×n
// matrix A, where op(A) is A, or Aᵀ when trans is set (the vector-matrix
// product x @ A, and the adjoint of A @ x). len(a) must be m·n; x and y
// must have the lengths op(A) needs. With beta = 0, y is overwritten and
// its old contents (even NaN) are ignored, as in BLAS.
func Gemv(trans bool, m, n int, alpha float64, a, x []float64, beta float64, y []float64) {
	rows, cols := m, n
	if trans {
		rows, cols = n, m
	}
	checkLen("Gemv", m*n, len(a))
	checkLen("Gemv", cols, len(x))
	checkLen("Gemv", rows, len(y))
	if rows == 0 {
		return
	}
	if cols == 0 {
		scaleOrZero(beta, y)
		return
	}
	gemvWith(active, trans, m, n, alpha, a, x, beta, y)
}

// Gemm computes C = alpha·op(A)·op(B) + beta·C for dense row-major
// matrices, where op(A) is m×k (A stored m×k, or k×m when transA is set),
// op(B) is k×n (B stored k×n, or n×k when transB is set) and C is m×n.
// The transposed forms are what the adjoints of a matrix product need.
// With beta = 0, C is overwritten as in BLAS. Large products run on
// several goroutines (a cache-blocked AVX2 kernel on amd64; see
// matmul.go for the order of operations, which is the same everywhere).
func Gemm(transA, transB bool, m, n, k int, alpha float64, a, b []float64, beta float64, c []float64) {
	checkLen("Gemm", m*k, len(a))
	checkLen("Gemm", k*n, len(b))
	checkLen("Gemm", m*n, len(c))
	if m == 0 || n == 0 {
		return
	}
	if k == 0 {
		scaleOrZero(beta, c)
		return
	}
	gemmWith(active, transA, transB, m, n, k, alpha, a, b, beta, c)
}

// scaleOrZero is beta·y with the BLAS convention that beta = 0 clears y.
func scaleOrZero(beta float64, y []float64) {
	if beta == 0 {
		clear(y)
		return
	}
	Scale(beta, y)
}
