package runtime_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// mustPanic reports whether f panics (the kernels' answer to slices of the
// wrong length, a bug in the caller).
func mustPanic(t *testing.T, name string, f func()) {
	t.Helper()
	defer func() {
		if recover() == nil {
			t.Errorf("%s with mismatched lengths did not panic", name)
		}
	}()
	f()
}

func TestMapErrLoops(t *testing.T) {
	errNeg := errors.New("negative")
	half := func(a int64) (int64, error) {
		if a < 0 {
			return 0, errNeg
		}
		return a / 2, nil
	}
	div := runtime.DivI64
	for _, c := range []struct {
		name string
		run  func(dst []int64) error
		want []int64 // nil: want errors.Is(err, wantErr)
		err  error
	}{
		{"MapErr", func(d []int64) error { return runtime.MapErr(d, []int64{4, 7, 9}, half) }, []int64{2, 3, 4}, nil},
		{"MapErr fails", func(d []int64) error { return runtime.MapErr(d, []int64{4, -1, 9}, half) }, nil, errNeg},
		{"MapErr empty", func(d []int64) error { return runtime.MapErr(d[:0], nil, half) }, []int64{}, nil},
		{"MapVVErr", func(d []int64) error { return runtime.MapVVErr(d, []int64{9, 8, -7}, []int64{2, 4, 2}, div) }, []int64{4, 2, -3}, nil},
		{"MapVVErr fails", func(d []int64) error { return runtime.MapVVErr(d, []int64{9, 8, 7}, []int64{2, 0, 2}, div) }, nil, runtime.ErrIntDivZero},
		{"MapVSErr", func(d []int64) error { return runtime.MapVSErr(d, []int64{9, 8, 7}, 2, div) }, []int64{4, 4, 3}, nil},
		{"MapVSErr fails", func(d []int64) error { return runtime.MapVSErr(d, []int64{9, 8, 7}, 0, div) }, nil, runtime.ErrIntDivZero},
		{"MapSVErr", func(d []int64) error { return runtime.MapSVErr(d, 12, []int64{1, 2, 5}, div) }, []int64{12, 6, 2}, nil},
		{"MapSVErr fails", func(d []int64) error { return runtime.MapSVErr(d, 12, []int64{1, 0, 5}, div) }, nil, runtime.ErrIntDivZero},
	} {
		dst := make([]int64, 3)
		err := c.run(dst)
		switch {
		case c.want == nil && !errors.Is(err, c.err):
			t.Errorf("%s: error %v; want %v", c.name, err, c.err)
		case c.want != nil && (err != nil || !slices.Equal(dst[:len(c.want)], c.want)):
			t.Errorf("%s = %v, %v; want %v", c.name, dst, err, c.want)
		}
	}
	mustPanic(t, "MapErr", func() { _ = runtime.MapErr(make([]int64, 2), make([]int64, 3), half) })
}

func TestConversionLoops(t *testing.T) {
	f := make([]float64, 4)
	runtime.FloatTo(f, []int64{-3, 0, 1<<53 + 1, maxI64})
	sameSlices(t, "FloatTo", f, []float64{-3, 0, 1 << 53, 0x1p63})
	i := make([]int64, 4)
	if err := runtime.TruncTo(i, []float64{-2.9, negZ, 2.9, -0x1p63}); err != nil || !slices.Equal(i, []int64{-2, 0, 2, minI64}) {
		t.Errorf("TruncTo = %v, %v", i, err)
	}
	if err := runtime.TruncTo(i, []float64{1, nan, 2, 3}); err == nil || err.Error() != "cannot convert NaN to i64" {
		t.Errorf("TruncTo of NaN: error %v", err)
	}
	mustPanic(t, "FloatTo", func() { runtime.FloatTo(make([]float64, 1), nil) })
}

func TestI64Loops(t *testing.T) {
	x := []int64{maxI64, minI64, -3, 0, 7}
	y := []int64{1, -1, 4, minI64, -2}
	const c = int64(3)
	naive := func(f func(i int) int64) []int64 {
		out := make([]int64, len(x))
		for i := range out {
			out[i] = f(i)
		}
		return out
	}
	dst := make([]int64, len(x))
	for _, k := range []struct {
		name string
		run  func()
		want []int64
	}{
		{"AddI64To wraps", func() { runtime.AddI64To(dst, x, y) }, naive(func(i int) int64 { return x[i] + y[i] })},
		{"SubI64To wraps", func() { runtime.SubI64To(dst, x, y) }, naive(func(i int) int64 { return x[i] - y[i] })},
		{"MulI64To wraps", func() { runtime.MulI64To(dst, x, y) }, naive(func(i int) int64 { return x[i] * y[i] })},
		{"AddConstI64To", func() { runtime.AddConstI64To(dst, x, c) }, naive(func(i int) int64 { return x[i] + c })},
		{"SubConstI64To", func() { runtime.SubConstI64To(dst, x, c) }, naive(func(i int) int64 { return x[i] - c })},
		{"ConstSubI64To", func() { runtime.ConstSubI64To(dst, c, x) }, naive(func(i int) int64 { return c - x[i] })},
		{"MulConstI64To", func() { runtime.MulConstI64To(dst, x, c) }, naive(func(i int) int64 { return x[i] * c })},
	} {
		clear(dst)
		k.run()
		if !slices.Equal(dst, k.want) {
			t.Errorf("%s = %v; want %v", k.name, dst, k.want)
		}
	}
	runtime.AddI64To(nil, nil, nil) // empty
	mustPanic(t, "AddI64To", func() { runtime.AddI64To(make([]int64, 2), make([]int64, 2), make([]int64, 3)) })
	mustPanic(t, "MulConstI64To", func() { runtime.MulConstI64To(make([]int64, 2), make([]int64, 1), 2) })
}

func TestCompareLoops(t *testing.T) {
	ops := []struct {
		op runtime.CmpOp
		f  func(a, b float64) bool
	}{
		{runtime.CmpEq, func(a, b float64) bool { return a == b }},
		{runtime.CmpNe, func(a, b float64) bool { return a != b }},
		{runtime.CmpLt, func(a, b float64) bool { return a < b }},
		{runtime.CmpLe, func(a, b float64) bool { return a <= b }},
		{runtime.CmpGt, func(a, b float64) bool { return a > b }},
		{runtime.CmpGe, func(a, b float64) bool { return a >= b }},
	}
	x := []float64{1, 2, 3, nan, negZ, inf, -inf}
	y := []float64{2, 2, 1, 1, 0, inf, nan}
	for _, o := range ops {
		for _, c := range []float64{2, nan, 0} {
			dst := make([]bool, len(x))
			runtime.CompareVV(o.op, dst, x, y)
			for i := range x {
				if dst[i] != o.f(x[i], y[i]) {
					t.Errorf("CompareVV op %d: %v, %v gives %v", o.op, x[i], y[i], dst[i])
				}
			}
			runtime.CompareVS(o.op, dst, x, c)
			for i := range x {
				if dst[i] != o.f(x[i], c) {
					t.Errorf("CompareVS op %d: %v, %v gives %v", o.op, x[i], c, dst[i])
				}
			}
			runtime.CompareSV(o.op, dst, c, x)
			for i := range x {
				if dst[i] != o.f(c, x[i]) {
					t.Errorf("CompareSV op %d: %v, %v gives %v", o.op, c, x[i], dst[i])
				}
			}
		}
	}
	xi, yi := []int64{minI64, 0, 5}, []int64{maxI64, 0, 4}
	dst := make([]bool, 3)
	runtime.CompareVV(runtime.CmpLt, dst, xi, yi)
	if !slices.Equal(dst, []bool{true, false, false}) {
		t.Errorf("CompareVV i64 < = %v", dst)
	}
	runtime.CompareSV(runtime.CmpGe, dst, 0, xi)
	if !slices.Equal(dst, []bool{true, true, false}) {
		t.Errorf("CompareSV i64 >= = %v", dst)
	}
	runtime.CompareVV(runtime.CmpEq, []bool{}, []int64{}, []int64{})
	mustPanic(t, "CompareVV", func() { runtime.CompareVV(runtime.CmpEq, make([]bool, 2), xi, yi) })
	mustPanic(t, "CompareVS", func() { runtime.CompareVS(runtime.CmpEq, make([]bool, 2), xi, 1) })
}
