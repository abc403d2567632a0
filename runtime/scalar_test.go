package runtime_test

import (
	"errors"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

var (
	nan    = math.NaN()
	inf    = math.Inf(1)
	negZ   = math.Copysign(0, -1)
	minI64 = int64(math.MinInt64)
	maxI64 = int64(math.MaxInt64)
)

func TestScalarF64(t *testing.T) {
	cases := []struct {
		name string
		f    func(float64) float64
		x    float64
		want float64
	}{
		{"sigmoid 0", runtime.Sigmoid, 0, 0.5},
		{"sigmoid large", runtime.Sigmoid, 800, 1},
		{"sigmoid very negative", runtime.Sigmoid, -800, 0},
		{"sigmoid -inf", runtime.Sigmoid, -inf, 0},
		{"sigmoid +inf", runtime.Sigmoid, inf, 1},
		{"sigmoid NaN", runtime.Sigmoid, nan, nan},
		{"sigmoid -2.5", runtime.Sigmoid, -2.5, 0.07585818002124356},
		{"softplus 0", runtime.Softplus, 0, math.Ln2},
		{"softplus large", runtime.Softplus, 800, 800},
		{"softplus very negative", runtime.Softplus, -800, 0},
		{"softplus +inf", runtime.Softplus, inf, inf},
		{"softplus NaN", runtime.Softplus, nan, nan},
		{"softplus 0.5", runtime.Softplus, 0.5, 0.9740769841801067},
		{"relu positive", runtime.Relu, 2.5, 2.5},
		{"relu negative", runtime.Relu, -2.5, 0},
		{"relu -0", runtime.Relu, negZ, 0},
		{"relu NaN", runtime.Relu, nan, 0},
		{"relu +inf", runtime.Relu, inf, inf},
		{"sign positive", runtime.Sign, 3, 1},
		{"sign negative", runtime.Sign, -inf, -1},
		{"sign 0", runtime.Sign, 0, 0},
		{"sign -0", runtime.Sign, negZ, negZ},
		{"sign NaN", runtime.Sign, nan, nan},
	}
	for _, c := range cases {
		if got := c.f(c.x); !sameBits(got, c.want) {
			t.Errorf("%s: got %v (%x), want %v (%x)", c.name, got, math.Float64bits(got), c.want, math.Float64bits(c.want))
		}
	}
}

func TestScalarF64Binary(t *testing.T) {
	cases := []struct {
		name string
		f    func(a, b float64) float64
		a, b float64
		want float64
	}{
		{"max", runtime.Max2, 1, 2, 2},
		{"max first", runtime.Max2, 2, 1, 2},
		{"max tie keeps a", runtime.Max2, negZ, 0, negZ},
		{"max tie keeps a (+0)", runtime.Max2, 0, negZ, 0},
		{"max NaN second", runtime.Max2, 1, nan, nan},
		{"max NaN first", runtime.Max2, nan, 1, nan},
		{"min", runtime.Min2, 1, 2, 1},
		{"min tie keeps a", runtime.Min2, 0, negZ, 0},
		{"min NaN second", runtime.Min2, 1, nan, nan},
		{"min NaN first", runtime.Min2, nan, 1, nan},
		{"ind_gt true", runtime.IndGt, 2, 1, 1},
		{"ind_gt equal", runtime.IndGt, 1, 1, 0},
		{"ind_gt NaN", runtime.IndGt, nan, 1, 0},
	}
	for _, c := range cases {
		if got := c.f(c.a, c.b); !sameBits(got, c.want) {
			t.Errorf("%s: got %v, want %v", c.name, got, c.want)
		}
	}
}

func TestScalarI64(t *testing.T) {
	un := []struct {
		name    string
		f       func(int64) int64
		x, want int64
	}{
		{"abs", runtime.AbsI64, -3, 3},
		{"abs 0", runtime.AbsI64, 0, 0},
		{"abs wraps", runtime.AbsI64, minI64, minI64},
		{"sign", runtime.SignI64, -7, -1},
		{"sign 0", runtime.SignI64, 0, 0},
		{"sign max", runtime.SignI64, maxI64, 1},
	}
	for _, c := range un {
		if got := c.f(c.x); got != c.want {
			t.Errorf("%s(%d) = %d; want %d", c.name, c.x, got, c.want)
		}
	}
	bin := []struct {
		name       string
		f          func(a, b int64) (int64, error)
		a, b, want int64
		err        string
	}{
		{"div", runtime.DivI64, 7, 2, 3, ""},
		{"div truncates", runtime.DivI64, -7, 2, -3, ""},
		{"div wraps", runtime.DivI64, minI64, -1, minI64, ""},
		{"div by zero", runtime.DivI64, 1, 0, 0, "integer division by zero"},
		{"mod", runtime.ModI64, -7, 2, -1, ""},
		{"mod by zero", runtime.ModI64, 1, 0, 0, "integer division by zero"},
		{"pow", runtime.PowI64, 3, 4, 81, ""},
		{"pow zero exponent", runtime.PowI64, 0, 0, 1, ""},
		{"pow negative base", runtime.PowI64, -2, 3, -8, ""},
		{"pow wraps", runtime.PowI64, 2, 64, 0, ""},
		{"pow wraps odd", runtime.PowI64, 3, 41, wrapPow(3, 41), ""},
		{"pow negative exponent", runtime.PowI64, 2, -1, 0, "negative exponent -1 in integer power"},
	}
	for _, c := range bin {
		got, err := c.f(c.a, c.b)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("%s(%d, %d): error %v; want %q", c.name, c.a, c.b, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("%s(%d, %d) = %d, %v; want %d", c.name, c.a, c.b, got, err, c.want)
		}
	}
	if _, err := runtime.DivI64(1, 0); !errors.Is(err, runtime.ErrIntDivZero) {
		t.Errorf("DivI64 by zero: %v is not ErrIntDivZero", err)
	}
}

// wrapPow is a^b by b wrapping multiplications.
func wrapPow(a int64, b int) int64 {
	r := int64(1)
	for range b {
		r *= a
	}
	return r
}

func TestTruncToI64(t *testing.T) {
	cases := []struct {
		x    float64
		want int64
		err  string
	}{
		{2.9, 2, ""},
		{-2.9, -2, ""},
		{negZ, 0, ""},
		{-0x1p63, minI64, ""},
		{0x1p63 - 1024, maxI64 - 1023, ""},
		{0x1p63, 0, "cannot convert 9.223372036854776e+18 to i64"},
		{-1e308, 0, "cannot convert -1e+308 to i64"},
		{nan, 0, "cannot convert NaN to i64"},
		{inf, 0, "cannot convert +Inf to i64"},
	}
	for _, c := range cases {
		got, err := runtime.TruncToI64(c.x)
		switch {
		case c.err != "" && (err == nil || err.Error() != c.err):
			t.Errorf("TruncToI64(%v): error %v; want %q", c.x, err, c.err)
		case c.err == "" && (err != nil || got != c.want):
			t.Errorf("TruncToI64(%v) = %d, %v; want %d", c.x, got, err, c.want)
		}
	}
}
