package runtime

import (
	"errors"
	"fmt"
	"math"
	"strconv"
)

// Scalar functions of the elementwise primitives that are more than one
// Go operator or math call. The interpreter applies exactly these, so
// generated code that calls them gets the same bits, the same NaN and
// signed-zero behaviour and the same errors.

// Sigmoid is 1/(1+e^-x) without overflow for large |x|.
func Sigmoid(x float64) float64 {
	if x >= 0 {
		return 1 / (1 + math.Exp(-x))
	}
	e := math.Exp(x)
	return e / (1 + e)
}

// Softplus is log(1+e^x) without overflow for large x.
func Softplus(x float64) float64 {
	if x > 0 {
		return x + math.Log1p(math.Exp(-x))
	}
	return math.Log1p(math.Exp(x))
}

// Relu is max(x, 0). It is 0 for NaN and for -0, whose derivative rule
// (relu'(0) = 0) treats them as not positive.
func Relu(x float64) float64 {
	if x > 0 {
		return x
	}
	return 0
}

// Sign is -1, 0 or 1; 0, -0 and NaN are returned unchanged.
func Sign(x float64) float64 { return sign(x) }

// SignI64 is -1, 0 or 1.
func SignI64(x int64) int64 { return sign(x) }

func sign[T Number](x T) T {
	switch {
	case x > 0:
		return 1
	case x < 0:
		return -1
	}
	return x
}

// AbsI64 is |x|; like Go's negation it wraps, so AbsI64(MinInt64) is
// MinInt64.
func AbsI64(x int64) int64 {
	if x < 0 {
		return -x
	}
	return x
}

// Max2 is the larger of a and b: a on ties (so Max2(-0, 0) is -0) and NaN
// if either is NaN, unlike math.Max, which prefers +0.
func Max2(a, b float64) float64 {
	if b > a || math.IsNaN(b) {
		return b
	}
	return a
}

// Min2 is the smaller of a and b: a on ties, NaN if either is NaN.
func Min2(a, b float64) float64 {
	if b < a || math.IsNaN(b) {
		return b
	}
	return a
}

// IndGt is 1 where a > b, else 0 (also where either is NaN): the step
// function in the derivatives of max, min and relu.
func IndGt(a, b float64) float64 {
	if a > b {
		return 1
	}
	return 0
}

// ErrIntDivZero is the error of i64 division or remainder by zero.
var ErrIntDivZero = errors.New("integer division by zero")

// DivI64 is a / b truncated toward zero, as in Go; MinInt64 / -1 wraps.
func DivI64(a, b int64) (int64, error) {
	if b == 0 {
		return 0, ErrIntDivZero
	}
	return a / b, nil
}

// ModI64 is a % b with the sign of a, as in Go.
func ModI64(a, b int64) (int64, error) {
	if b == 0 {
		return 0, ErrIntDivZero
	}
	return a % b, nil
}

// PowI64 is a^b by repeated squaring, wrapping on overflow like Go's
// multiplication. A negative exponent is an error: the result would not
// be an integer.
func PowI64(a, b int64) (int64, error) {
	if b < 0 {
		return 0, fmt.Errorf("negative exponent %d in integer power", b)
	}
	r := int64(1)
	for ; b > 0; b >>= 1 {
		if b&1 == 1 {
			r *= a
		}
		a *= a
	}
	return r, nil
}

// TruncToI64 is i64(x): truncation toward zero, and an error where Go's
// conversion would give an implementation-defined value (NaN, infinities,
// magnitudes of 2⁶³ and more).
func TruncToI64(x float64) (int64, error) {
	t := math.Trunc(x)
	if t >= -0x1p63 && t < 0x1p63 {
		return int64(t), nil
	}
	return 0, fmt.Errorf("cannot convert %s to i64", strconv.FormatFloat(x, 'g', -1, 64))
}
