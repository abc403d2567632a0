package runtime

import "math"

// Elementwise loops: a scalar operation applied over flat storage, in the
// three forms of a lifted binary operation (vector-vector, vector-scalar,
// scalar-vector). The generic Map loops call a scalar function per
// element, whose own cost (a sin, a log) dwarfs the indirect call; the
// operations programs spend their time in have loops with the operator
// written inline (here and in kernels.go). As everywhere in this package,
// dst is allocated by the caller, slices must have the documented lengths
// (a mismatch panics), and dst may be one of the operands.

// Map stores f(x[i]) in dst; len(dst) = len(x).
func Map[A, R any](dst []R, x []A, f func(A) R) {
	checkLen("Map", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = f(v)
	}
}

// MapErr stores f(x[i]) in dst and stops at the first error, which it
// returns; dst is then partly written.
func MapErr[A, R any](dst []R, x []A, f func(A) (R, error)) error {
	checkLen("MapErr", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		r, err := f(v)
		if err != nil {
			return err
		}
		dst[i] = r
	}
	return nil
}

// MapVV stores f(x[i], y[i]) in dst; all three have the same length.
func MapVV[A, R any](dst []R, x, y []A, f func(a, b A) R) {
	checkLen("MapVV", len(dst), len(x), len(y))
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = f(x[i], y[i])
	}
}

// MapVS stores f(x[i], c) in dst.
func MapVS[A, R any](dst []R, x []A, c A, f func(a, b A) R) {
	checkLen("MapVS", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = f(v, c)
	}
}

// MapSV stores f(c, y[i]) in dst.
func MapSV[A, R any](dst []R, c A, y []A, f func(a, b A) R) {
	checkLen("MapSV", len(dst), len(y))
	y = y[:len(dst)]
	for i, v := range y {
		dst[i] = f(c, v)
	}
}

// MapVVErr is MapVV for a function that may fail, stopping at the first
// error as MapErr does.
func MapVVErr[A, R any](dst []R, x, y []A, f func(a, b A) (R, error)) error {
	checkLen("MapVVErr", len(dst), len(x), len(y))
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		r, err := f(x[i], y[i])
		if err != nil {
			return err
		}
		dst[i] = r
	}
	return nil
}

// MapVSErr is MapVS for a function that may fail.
func MapVSErr[A, R any](dst []R, x []A, c A, f func(a, b A) (R, error)) error {
	checkLen("MapVSErr", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		r, err := f(v, c)
		if err != nil {
			return err
		}
		dst[i] = r
	}
	return nil
}

// MapSVErr is MapSV for a function that may fail.
func MapSVErr[A, R any](dst []R, c A, y []A, f func(a, b A) (R, error)) error {
	checkLen("MapSVErr", len(dst), len(y))
	y = y[:len(dst)]
	for i, v := range y {
		r, err := f(c, v)
		if err != nil {
			return err
		}
		dst[i] = r
	}
	return nil
}

// AbsTo stores |x| in dst.
func AbsTo(dst, x []float64) {
	checkLen("AbsTo", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = math.Abs(v)
	}
}

// SqrtTo stores √x in dst.
func SqrtTo(dst, x []float64) {
	checkLen("SqrtTo", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = math.Sqrt(v)
	}
}

// FloatTo stores f64(x) in dst: the conversion of i64 to f64, rounding to
// nearest beyond 2⁵³.
func FloatTo(dst []float64, x []int64) {
	checkLen("FloatTo", len(dst), len(x))
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = float64(v)
	}
}

// TruncTo stores i64(x) in dst, truncating toward zero; it fails as
// TruncToI64 does at the first element that has no i64 value.
func TruncTo(dst []int64, x []float64) error {
	return MapErr(dst, x, TruncToI64)
}

// The i64 arithmetic loops wrap around on overflow, as Go's integers do.
// A constant on either side of + and * is the same loop: both are
// commutative on wrapping integers.

// AddI64To stores x + y in dst.
func AddI64To(dst, x, y []int64) {
	checkLen("AddI64To", len(dst), len(x), len(y))
	addVV(dst, x, y)
}

// SubI64To stores x - y in dst.
func SubI64To(dst, x, y []int64) {
	checkLen("SubI64To", len(dst), len(x), len(y))
	subVV(dst, x, y)
}

// MulI64To stores x * y in dst.
func MulI64To(dst, x, y []int64) {
	checkLen("MulI64To", len(dst), len(x), len(y))
	mulVV(dst, x, y)
}

// AddConstI64To stores x + c in dst.
func AddConstI64To(dst, x []int64, c int64) {
	checkLen("AddConstI64To", len(dst), len(x))
	addVS(dst, x, c)
}

// SubConstI64To stores x - c in dst.
func SubConstI64To(dst, x []int64, c int64) {
	checkLen("SubConstI64To", len(dst), len(x))
	subVS(dst, x, c)
}

// ConstSubI64To stores c - x in dst.
func ConstSubI64To(dst []int64, c int64, x []int64) {
	checkLen("ConstSubI64To", len(dst), len(x))
	subSV(dst, c, x)
}

// MulConstI64To stores x * c in dst.
func MulConstI64To(dst, x []int64, c int64) {
	checkLen("MulConstI64To", len(dst), len(x))
	mulVS(dst, x, c)
}

// The loops behind the arithmetic kernels, of f64 (kernels.go) and i64
// alike. Callers have checked the lengths; each instance compiles to the
// plain loop of its element type and is inlined into its caller.

func addVV[T Number](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] + y[i]
	}
}

func subVV[T Number](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] - y[i]
	}
}

func mulVV[T Number](dst, x, y []T) {
	x, y = x[:len(dst)], y[:len(dst)]
	for i := range dst {
		dst[i] = x[i] * y[i]
	}
}

func addVS[T Number](dst, x []T, c T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v + c
	}
}

func subVS[T Number](dst, x []T, c T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v - c
	}
}

func subSV[T Number](dst []T, c T, x []T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = c - v
	}
}

func mulVS[T Number](dst, x []T, c T) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v * c
	}
}

// CmpOp is one of the six comparisons, so that a comparison loop tests
// the operator once per array rather than calling a function per element.
type CmpOp uint8

const (
	CmpEq CmpOp = iota // ==
	CmpNe              // !=
	CmpLt              // <
	CmpLe              // <=
	CmpGt              // >
	CmpGe              // >=
)

// Flip turns c op x into x op.Flip() c. It is exact also for NaN, where
// every ordered comparison is false either way round.
func (op CmpOp) Flip() CmpOp {
	switch op {
	case CmpLt:
		return CmpGt
	case CmpLe:
		return CmpGe
	case CmpGt:
		return CmpLt
	case CmpGe:
		return CmpLe
	}
	return op
}

// Number is the element type of the comparison loops. Their i64 and f64
// instances have different GC shapes, so each compiles to plain compares.
type Number interface{ ~int64 | ~float64 }

// CompareVV stores x[i] op y[i] in dst.
func CompareVV[T Number](op CmpOp, dst []bool, x, y []T) {
	checkLen("CompareVV", len(dst), len(x), len(y))
	x, y = x[:len(dst)], y[:len(dst)]
	switch op {
	case CmpEq:
		for i := range dst {
			dst[i] = x[i] == y[i]
		}
	case CmpNe:
		for i := range dst {
			dst[i] = x[i] != y[i]
		}
	case CmpLt:
		for i := range dst {
			dst[i] = x[i] < y[i]
		}
	case CmpLe:
		for i := range dst {
			dst[i] = x[i] <= y[i]
		}
	case CmpGt:
		for i := range dst {
			dst[i] = x[i] > y[i]
		}
	case CmpGe:
		for i := range dst {
			dst[i] = x[i] >= y[i]
		}
	}
}

// CompareVS stores x[i] op c in dst.
func CompareVS[T Number](op CmpOp, dst []bool, x []T, c T) {
	checkLen("CompareVS", len(dst), len(x))
	x = x[:len(dst)]
	switch op {
	case CmpEq:
		for i, v := range x {
			dst[i] = v == c
		}
	case CmpNe:
		for i, v := range x {
			dst[i] = v != c
		}
	case CmpLt:
		for i, v := range x {
			dst[i] = v < c
		}
	case CmpLe:
		for i, v := range x {
			dst[i] = v <= c
		}
	case CmpGt:
		for i, v := range x {
			dst[i] = v > c
		}
	case CmpGe:
		for i, v := range x {
			dst[i] = v >= c
		}
	}
}

// CompareSV stores c op y[i] in dst.
func CompareSV[T Number](op CmpOp, dst []bool, c T, y []T) {
	CompareVS(op.Flip(), dst, y, c)
}
