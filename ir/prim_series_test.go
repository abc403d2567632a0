package ir_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
	"github.com/nabla-lang/nabla/runtime"
)

// sArr is an f64 array value of the given shape.
func sArr(shape []int, xs ...float64) runtime.Value {
	if runtime.Size(shape) != len(xs) {
		panic("sArr: shape and data disagree")
	}
	return runtime.Arr(&runtime.Array{Shape: shape, Kind: runtime.ElemF64, F: xs})
}

// sType is the static type of an f64 value (a scalar when v holds no array).
func sType(v runtime.Value) ir.Type {
	a := v.Array()
	if a == nil {
		return ir.TF64
	}
	var t ir.Type = ir.TF64
	for i := len(a.Shape) - 1; i >= 0; i-- {
		t = ir.ArrayOf(ir.ConstDim(int64(a.Shape[i])), t)
	}
	return t
}

// sEval types and evaluates one series primitive call on f64 values (and
// the index of series_acc_add_at).
func sEval(p *ir.Prim, aux any, args ...runtime.Value) (runtime.Value, error) {
	ts := make([]ir.Type, len(args))
	for i, a := range args {
		ts[i] = sType(a)
		if p == ir.PrimSeriesAccAddAt && i == 1 {
			ts[i] = ir.TI64
		}
	}
	return sEvalTyped(p, aux, ts, args...)
}

func sEvalTyped(p *ir.Prim, aux any, ts []ir.Type, args ...runtime.Value) (runtime.Value, error) {
	res, err := p.Type(ts, aux)
	if err != nil {
		return runtime.Value{}, err
	}
	impl, err := p.Eval(&ir.Site{Prim: p, Args: ts, Result: res, Aux: aux})
	if err != nil {
		return runtime.Value{}, err
	}
	return impl(runtime.NewMachine(context.Background(), runtime.Limits{}), args)
}

func mustEval(t *testing.T, p *ir.Prim, aux any, args ...runtime.Value) *runtime.Array {
	t.Helper()
	v, err := sEval(p, aux, args...)
	if err != nil {
		t.Fatalf("%s: %v", p.Name, err)
	}
	return v.Array()
}

func closeSlices(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.IsNaN(want[i]) != math.IsNaN(got[i]) {
			return false
		}
		if !math.IsNaN(want[i]) && math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

// unarySeries lists every unary series primitive with a domain to sample.
var unarySeries = []struct {
	p      *ir.Prim
	lo, hi float64
}{
	{ir.PrimSeriesExp, -2, 2}, {ir.PrimSeriesLog, 0.2, 3}, {ir.PrimSeriesSqrt, 0.2, 3},
	{ir.PrimSeriesSin, -3, 3}, {ir.PrimSeriesCos, -3, 3}, {ir.PrimSeriesTan, -1.2, 1.2},
	{ir.PrimSeriesSinh, -2, 2}, {ir.PrimSeriesCosh, -2, 2}, {ir.PrimSeriesTanh, -2, 2},
	{ir.PrimSeriesAsin, -0.8, 0.8}, {ir.PrimSeriesAcos, -0.8, 0.8}, {ir.PrimSeriesAtan, -3, 3},
	{ir.PrimSeriesLog1p, -0.7, 3}, {ir.PrimSeriesExpm1, -2, 2}, {ir.PrimSeriesErf, -2, 2},
	{ir.PrimSeriesSigmoid, -4, 4}, {ir.PrimSeriesSoftplus, -4, 4},
	{ir.PrimSeriesAbs, 0.1, 2}, {ir.PrimSeriesRelu, 0.1, 2},
}

// lineSeries is the series of x + t: [x, 1, 0, ...].
func lineSeries(x float64, k int) []float64 {
	s := make([]float64, k)
	s[0] = 1
	if k > 1 {
		s[1] = 1
	}
	s[0] = x
	return s
}

// TestSeriesUnaryDerivatives: for y(t) = f(x + t), coefficient j+1 is the
// derivative of coefficient j in x, divided by j+1. Checked by central
// differences at every order, for every unary primitive, and coefficient 0
// against the scalar primitive itself.
func TestSeriesUnaryDerivatives(t *testing.T) {
	const k, h = 8, 1e-5
	rng := rand.New(rand.NewPCG(1, 2))
	for _, c := range unarySeries {
		scalar := scalarOf(c.p)
		for trial := 0; trial < 5; trial++ {
			x := c.lo + (c.hi-c.lo)*rng.Float64()
			at := func(x float64) []float64 { return mustEval(t, c.p, nil, sArr([]int{k}, lineSeries(x, k)...)).F }
			y, yp, ym := at(x), at(x+h), at(x-h)
			if want := scalar.F1(x); math.Abs(y[0]-want) > 1e-15*math.Max(1, math.Abs(want)) {
				t.Errorf("%s at %g: coefficient 0 = %g; %s gives %g", c.p.Name, x, y[0], scalar.Name, want)
			}
			for j := 0; j+1 < k; j++ {
				d := (yp[j] - ym[j]) / (2 * h)
				want := d / float64(j+1)
				if math.Abs(y[j+1]-want) > 1e-5*math.Max(1, math.Abs(want)) {
					t.Errorf("%s at %g: coefficient %d = %.12g; d/dx of coefficient %d / %d = %.12g", c.p.Name, x, j+1, y[j+1], j, j+1, want)
				}
			}
		}
	}
}

// scalarOf is the elementwise primitive whose series p is.
func scalarOf(p *ir.Prim) *ir.Prim {
	for _, q := range ir.Prims() {
		if ir.SeriesOf(q) == p {
			return q
		}
	}
	panic("no scalar primitive for " + p.Name)
}

// TestSeriesOfCoversElementwise: every smooth elementwise f64 primitive
// has a series version, except neg and f64, which Taylor mode applies to
// series directly.
func TestSeriesOfCoversElementwise(t *testing.T) {
	for _, p := range ir.Prims() {
		if !p.Elementwise || p.Partials == nil || p == ir.PrimNeg || p == ir.PrimToF64 {
			continue
		}
		s := ir.SeriesOf(p)
		if s == nil {
			t.Errorf("elementwise %s has no series primitive", p.Name)
			continue
		}
		if s.Arity != p.Arity {
			t.Errorf("%s has arity %d; %s has %d", s.Name, s.Arity, p.Name, p.Arity)
		}
	}
	for _, p := range ir.SeriesPrims() {
		if p.Type == nil || p.Eval == nil {
			t.Errorf("series primitive %s has no type rule or evaluator", p.Name)
		}
		if p.Class != ir.SeriesClass || ir.LookupPrim(p.Name) != p {
			t.Errorf("series primitive %s is not in the table with class SeriesClass", p.Name)
		}
	}
}

// binarySeries lists the binary primitives with domains for both operands.
var binarySeries = []struct {
	p                  *ir.Prim
	alo, ahi, blo, bhi float64
}{
	{ir.PrimSeriesAdd, -2, 2, -2, 2}, {ir.PrimSeriesSub, -2, 2, -2, 2}, {ir.PrimSeriesMul, -2, 2, -2, 2},
	{ir.PrimSeriesDiv, -2, 2, 0.5, 2}, {ir.PrimSeriesPow, 0.3, 2, -2, 2}, {ir.PrimSeriesAtan2, -2, 2, 0.3, 2},
	{ir.PrimSeriesMod, 0.2, 3, 0.7, 1.1}, {ir.PrimSeriesMin, -2, 2, -2, 2}, {ir.PrimSeriesMax, -2, 2, -2, 2},
}

// TestSeriesBinaryDerivatives: along (a + α t, b + β t), the derivative
// check of TestSeriesUnaryDerivatives, for series-series, series-constant
// and constant-series operands.
func TestSeriesBinaryDerivatives(t *testing.T) {
	const k, h = 7, 1e-5
	rng := rand.New(rand.NewPCG(3, 4))
	for _, c := range binarySeries {
		scalar := scalarOf(c.p)
		for trial := 0; trial < 6; trial++ {
			a := c.alo + (c.ahi-c.alo)*rng.Float64()
			b := c.blo + (c.bhi-c.blo)*rng.Float64()
			for _, mode := range []ir.SeriesMode{ir.SeriesSS, ir.SeriesSC, ir.SeriesCS} {
				alpha, beta := 0.7, -1.3
				switch mode {
				case ir.SeriesSC:
					beta = 0
				case ir.SeriesCS:
					alpha = 0
				}
				at := func(s float64) []float64 {
					var x, y runtime.Value
					if mode == ir.SeriesCS {
						x = runtime.F64(a + alpha*s)
					} else {
						xs := make([]float64, k)
						xs[0], xs[1] = a+alpha*s, alpha
						x = sArr([]int{k}, xs...)
					}
					if mode == ir.SeriesSC {
						y = runtime.F64(b + beta*s)
					} else {
						ys := make([]float64, k)
						ys[0], ys[1] = b+beta*s, beta
						y = sArr([]int{k}, ys...)
					}
					return mustEval(t, c.p, mode, x, y).F
				}
				y, yp, ym := at(0), at(h), at(-h)
				if want := scalar.F2(a, b); math.Abs(y[0]-want) > 1e-15*math.Max(1, math.Abs(want)) {
					t.Errorf("%s[%s] at (%g, %g): coefficient 0 = %g; %s gives %g", c.p.Name, mode, a, b, y[0], scalar.Name, want)
				}
				for j := 0; j+1 < k; j++ {
					want := (yp[j] - ym[j]) / (2 * h) / float64(j+1)
					if math.Abs(y[j+1]-want) > 1e-5*math.Max(1, math.Abs(want)) {
						t.Errorf("%s[%s] at (%g, %g): coefficient %d = %.12g; by differences %.12g", c.p.Name, mode, a, b, j+1, y[j+1], want)
					}
				}
			}
		}
	}
}

// TestSeriesElementwiseShapes: on series of arrays, each element's
// coefficients are processed as a scalar series would be, and scalars
// (series or constants) broadcast.
func TestSeriesElementwiseShapes(t *testing.T) {
	const k, n = 4, 3
	rng := rand.New(rand.NewPCG(5, 6))
	rnd := func(m int, lo, hi float64) []float64 {
		xs := make([]float64, m)
		for i := range xs {
			xs[i] = lo + (hi-lo)*rng.Float64()
		}
		return xs
	}
	// column e of a [k][n] series.
	col := func(xs []float64, e int) []float64 {
		out := make([]float64, k)
		for j := range out {
			out[j] = xs[j*n+e]
		}
		return out
	}
	for _, c := range unarySeries {
		xs := rnd(k*n, c.lo, c.hi)
		got := mustEval(t, c.p, nil, sArr([]int{k, n}, xs...))
		for e := 0; e < n; e++ {
			want := mustEval(t, c.p, nil, sArr([]int{k}, col(xs, e)...)).F
			if !closeSlices(col(got.F, e), want, 0) {
				t.Errorf("%s: element %d of a series of a vector %v; alone %v", c.p.Name, e, col(got.F, e), want)
			}
		}
	}
	for _, c := range binarySeries {
		as, bs := rnd(k*n, c.alo, c.ahi), rnd(k*n, c.blo, c.bhi)
		ac, bc := rnd(n, c.alo, c.ahi), rnd(n, c.blo, c.bhi)
		as1, bs1 := rnd(k, c.alo, c.ahi), rnd(k, c.blo, c.bhi)
		type form struct {
			mode ir.SeriesMode
			a, b runtime.Value
			elem func(e int) (runtime.Value, runtime.Value) // element e's operands, alone
		}
		forms := []form{
			{ir.SeriesSS, sArr([]int{k, n}, as...), sArr([]int{k, n}, bs...), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, col(as, e)...), sArr([]int{k}, col(bs, e)...)
			}},
			{ir.SeriesSS, sArr([]int{k}, as1...), sArr([]int{k, n}, bs...), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, as1...), sArr([]int{k}, col(bs, e)...)
			}},
			{ir.SeriesSS, sArr([]int{k, n}, as...), sArr([]int{k}, bs1...), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, col(as, e)...), sArr([]int{k}, bs1...)
			}},
			{ir.SeriesSC, sArr([]int{k, n}, as...), sArr([]int{n}, bc...), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, col(as, e)...), runtime.F64(bc[e])
			}},
			{ir.SeriesSC, sArr([]int{k}, as1...), sArr([]int{n}, bc...), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, as1...), runtime.F64(bc[e])
			}},
			{ir.SeriesSC, sArr([]int{k, n}, as...), runtime.F64(bc[0]), func(e int) (runtime.Value, runtime.Value) {
				return sArr([]int{k}, col(as, e)...), runtime.F64(bc[0])
			}},
			{ir.SeriesCS, sArr([]int{n}, ac...), sArr([]int{k, n}, bs...), func(e int) (runtime.Value, runtime.Value) {
				return runtime.F64(ac[e]), sArr([]int{k}, col(bs, e)...)
			}},
			{ir.SeriesCS, runtime.F64(ac[1]), sArr([]int{k, n}, bs...), func(e int) (runtime.Value, runtime.Value) {
				return runtime.F64(ac[1]), sArr([]int{k}, col(bs, e)...)
			}},
		}
		for fi, f := range forms {
			got := mustEval(t, c.p, f.mode, f.a, f.b)
			if len(got.Shape) != 2 || got.Shape[0] != k || got.Shape[1] != n {
				t.Errorf("%s form %d: shape %v; want [%d %d]", c.p.Name, fi, got.Shape, k, n)
				continue
			}
			for e := 0; e < n; e++ {
				x, y := f.elem(e)
				want := mustEval(t, c.p, f.mode, x, y).F
				if !closeSlices(col(got.F, e), want, 0) {
					t.Errorf("%s form %d, element %d: %v; alone %v", c.p.Name, fi, e, col(got.F, e), want)
				}
			}
		}
	}
}

// TestSeriesIdentities checks kernels against each other at order 12.
func TestSeriesIdentities(t *testing.T) {
	const k = 12
	s := func(xs ...float64) runtime.Value {
		out := make([]float64, k)
		copy(out, xs)
		return sArr([]int{k}, out...)
	}
	un := func(p *ir.Prim, x runtime.Value) runtime.Value { return runtime.Arr(mustEval(t, p, nil, x)) }
	bin := func(p *ir.Prim, x, y runtime.Value) runtime.Value {
		return runtime.Arr(mustEval(t, p, ir.SeriesSS, x, y))
	}
	x := s(0.4, 1.3, -0.7, 0.2)
	y := s(1.7, -0.5, 0.25)
	checks := []struct {
		what      string
		got, want runtime.Value
	}{
		{"exp(log x) = x", un(ir.PrimSeriesExp, un(ir.PrimSeriesLog, y)), y},
		{"sin² + cos² = 1", bin(ir.PrimSeriesAdd, bin(ir.PrimSeriesMul, un(ir.PrimSeriesSin, x), un(ir.PrimSeriesSin, x)), bin(ir.PrimSeriesMul, un(ir.PrimSeriesCos, x), un(ir.PrimSeriesCos, x))), s(1)},
		{"cosh² - sinh² = 1", bin(ir.PrimSeriesSub, bin(ir.PrimSeriesMul, un(ir.PrimSeriesCosh, x), un(ir.PrimSeriesCosh, x)), bin(ir.PrimSeriesMul, un(ir.PrimSeriesSinh, x), un(ir.PrimSeriesSinh, x))), s(1)},
		{"(x·y)/y = x", bin(ir.PrimSeriesDiv, bin(ir.PrimSeriesMul, x, y), y), x},
		{"sqrt(y)² = y", bin(ir.PrimSeriesMul, un(ir.PrimSeriesSqrt, y), un(ir.PrimSeriesSqrt, y)), y},
		{"y^x = exp(x log y)", bin(ir.PrimSeriesPow, y, x), un(ir.PrimSeriesExp, bin(ir.PrimSeriesMul, x, un(ir.PrimSeriesLog, y)))},
		{"tan(atan x) = x", un(ir.PrimSeriesTan, un(ir.PrimSeriesAtan, x)), x},
		{"sin(asin x) = x", un(ir.PrimSeriesSin, un(ir.PrimSeriesAsin, x)), x},
		{"tanh = 2σ(2x) - 1", un(ir.PrimSeriesTanh, x), bin(ir.PrimSeriesSub, bin(ir.PrimSeriesMul, s(2), un(ir.PrimSeriesSigmoid, bin(ir.PrimSeriesMul, s(2), x))), s(1))},
		{"softplus(x) - softplus(-x) = x", bin(ir.PrimSeriesSub, un(ir.PrimSeriesSoftplus, x), un(ir.PrimSeriesSoftplus, bin(ir.PrimSeriesSub, s(), x))), x},
		{"log1p(expm1 x) = x", un(ir.PrimSeriesLog1p, un(ir.PrimSeriesExpm1, x)), x},
		{"atan2(x, y) = atan(x / y) for y > 0", bin(ir.PrimSeriesAtan2, x, y), un(ir.PrimSeriesAtan, bin(ir.PrimSeriesDiv, x, y))},
	}
	for _, c := range checks {
		if !closeSlices(c.got.Array().F, c.want.Array().F, 1e-11) {
			t.Errorf("%s:\n\tgot  %v\n\twant %v", c.what, c.got.Array().F, c.want.Array().F)
		}
	}
}

// TestSeriesPowConstant: integer and fractional powers, also where the
// base's coefficient 0 is zero or negative.
func TestSeriesPowConstant(t *testing.T) {
	nan := math.NaN()
	cases := []struct {
		x    []float64
		r    float64
		want []float64
	}{
		{[]float64{2, 1, 0, 0}, 0, []float64{1, 0, 0, 0}},
		{[]float64{2, 1, 0, 0}, 1, []float64{2, 1, 0, 0}},
		{[]float64{-2, 1, 0, 0}, 3, []float64{-8, 12, -6, 1}},
		{[]float64{0, 1, 0, 0}, 3, []float64{0, 0, 0, 1}},
		{[]float64{0, 2, 0, 0, 0}, 2, []float64{0, 0, 4, 0, 0}},
		{[]float64{0, 0, 1, 0, 0, 0}, 1.5, []float64{0, 0, 0, 1, 0, 0}},
		{[]float64{0, 0, 1, 1, 0, 0}, 0.5, []float64{0, 1, 0.5, -0.125, 0.0625, nan}},
		{[]float64{0, 1, 0, 0}, 2.5, []float64{0, 0, 0, nan}},
		{[]float64{0, 1, 0}, -1, []float64{math.Inf(1), nan, nan}},
		{[]float64{0, 0, 0}, 2, []float64{0, 0, 0}},
		{[]float64{4, 1, 0, 0}, 0.5, []float64{2, 0.25, -1.0 / 64, 1.0 / 512}},
	}
	for _, c := range cases {
		got := mustEval(t, ir.PrimSeriesPow, ir.SeriesSC, sArr([]int{len(c.x)}, c.x...), runtime.F64(c.r)).F
		if !closeSlices(got, c.want, 1e-14) {
			t.Errorf("%v ^ %g = %v; want %v", c.x, c.r, got, c.want)
		}
	}
	// A constant base: 0^y is 0 beyond coefficient 0 (the derivative rule's
	// convention), c^y = exp(y log c).
	got := mustEval(t, ir.PrimSeriesPow, ir.SeriesCS, runtime.F64(0), sArr([]int{3}, 2, 1, 0)).F
	if !closeSlices(got, []float64{0, 0, 0}, 0) {
		t.Errorf("0 ^ (2 + t) = %v; want [0 0 0]", got)
	}
	got = mustEval(t, ir.PrimSeriesPow, ir.SeriesCS, runtime.F64(math.E), sArr([]int{3}, 0, 1, 0)).F
	if !closeSlices(got, []float64{1, 1, 0.5}, 1e-15) {
		t.Errorf("e ^ t = %v; want [1 1 0.5]", got)
	}
}

// TestSeriesConstruct: series(K, c0, ...) pads with zeros of the
// coefficients' shape, also for tuples and i64, and truncates.
func TestSeriesConstruct(t *testing.T) {
	m := runtime.NewMachine(context.Background(), runtime.Limits{})
	run := func(ts []ir.Type, aux any, args ...runtime.Value) runtime.Value {
		t.Helper()
		v, err := sEvalTyped(ir.PrimSeries, aux, ts, args...)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	_ = m
	v := run([]ir.Type{ir.TI64, ir.TF64, ir.TF64}, ir.ConstDim(4), runtime.I64(4), runtime.F64(1.5), runtime.F64(2)).Array()
	if !closeSlices(v.F, []float64{1.5, 2, 0, 0}, 0) {
		t.Errorf("series(4, 1.5, 2) = %v", v.F)
	}
	v = run([]ir.Type{ir.TI64, ir.TF64, ir.TF64}, nil, runtime.I64(1), runtime.F64(1.5), runtime.F64(2)).Array()
	if !closeSlices(v.F, []float64{1.5}, 0) {
		t.Errorf("series(1, 1.5, 2) = %v", v.F)
	}
	vec := ir.ArrayOf(ir.ConstDim(2), ir.TF64)
	v = run([]ir.Type{ir.TI64, vec}, nil, runtime.I64(3), sArr([]int{2}, 1, 2)).Array()
	if fmt.Sprint(v.Shape) != "[3 2]" || !closeSlices(v.F, []float64{1, 2, 0, 0, 0, 0}, 0) {
		t.Errorf("series(3, [1, 2]) = %v %v", v.Shape, v.F)
	}
	tup := ir.TupleOf(ir.TF64, ir.TI64)
	v = run([]ir.Type{ir.TI64, tup}, nil, runtime.I64(3), runtime.Tup(runtime.F64(1.5), runtime.I64(7))).Array()
	if len(v.Box) != 3 || v.Box[0].Tuple()[1].I != 7 || v.Box[2].Tuple()[0].F != 0 || v.Box[2].Tuple()[1].I != 0 {
		t.Errorf("series(3, (1.5, 7)) = %v", v.Box)
	}
	if _, err := ir.PrimSeries.Type([]ir.Type{ir.TI64, ir.TF64, vec}, nil); err == nil {
		t.Error("series(K, f64, [2]f64) type-checks")
	}
}

// TestSeriesCoefAndCauchy: per-coefficient application, and Cauchy products
// of bilinear primitives against explicit sums.
func TestSeriesCoefAndCauchy(t *testing.T) {
	// index per coefficient: s = [[1, 2, 3], [4, 5, 6]] (K = 2, n = 3).
	s := sArr([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	ts := []ir.Type{sType(s), ir.TI64}
	v, err := sEvalTyped(ir.PrimSeriesCoef, &ir.SeriesCoef{Prim: ir.PrimIndex, Series: []bool{true, false}}, ts, s, runtime.I64(2))
	if err != nil || !closeSlices(v.Array().F, []float64{3, 6}, 0) {
		t.Errorf("series_coef index = %v, %v; want [3 6]", v, err)
	}
	v, err = sEval(ir.PrimSeriesCoef, &ir.SeriesCoef{Prim: ir.PrimSum, Series: []bool{true}}, s)
	if err != nil || !closeSlices(v.Array().F, []float64{6, 15}, 0) {
		t.Errorf("series_coef sum = %v, %v; want [6 15]", v, err)
	}
	// matmul with a constant matrix on the right.
	mconst := sArr([]int{3, 2}, 1, 0, 0, 1, 1, 1)
	v, err = sEval(ir.PrimSeriesCoef, &ir.SeriesCoef{Prim: ir.PrimMatmul, Series: []bool{true, false}}, s, mconst)
	if err != nil || !closeSlices(v.Array().F, []float64{4, 5, 10, 11}, 0) {
		t.Errorf("series_coef matmul = %v, %v; want [4 5 10 11]", v, err)
	}
	if _, err := ir.PrimSeriesCoef.Type([]ir.Type{ir.TF64}, &ir.SeriesCoef{Prim: ir.PrimSum, Series: []bool{true}}); err == nil {
		t.Error("series_coef of a non-series type-checks")
	}
	// Cauchy products: dot, outer and matmul of two series.
	rng := rand.New(rand.NewPCG(7, 8))
	rnd := func(m int) []float64 {
		xs := make([]float64, m)
		for i := range xs {
			xs[i] = rng.NormFloat64()
		}
		return xs
	}
	const k = 4
	a, b := rnd(k*3), rnd(k*3)
	row := func(xs []float64, j, w int) []float64 { return xs[j*w : (j+1)*w] }
	for _, p := range []*ir.Prim{ir.PrimDot, ir.PrimOuter} {
		got := mustEval(t, ir.PrimSeriesCauchy, &ir.SeriesCoef{Prim: p, Series: []bool{true, true}}, sArr([]int{k, 3}, a...), sArr([]int{k, 3}, b...))
		rs := got.RowSize()
		for j := 0; j < k; j++ {
			want := make([]float64, rs)
			for i := 0; i <= j; i++ {
				x, y := row(a, i, 3), row(b, j-i, 3)
				for u := 0; u < 3; u++ {
					if p == ir.PrimDot {
						want[0] += x[u] * y[u]
						continue
					}
					for w := 0; w < 3; w++ {
						want[u*3+w] += x[u] * y[w]
					}
				}
			}
			if !closeSlices(got.F[j*rs:(j+1)*rs], want, 1e-14) {
				t.Errorf("series_cauchy %s, coefficient %d = %v; want %v", p.Name, j, got.F[j*rs:(j+1)*rs], want)
			}
		}
	}
	// series_prod is the Cauchy product of the elements' series.
	xs := rnd(k * 3)
	got := mustEval(t, ir.PrimSeriesProd, nil, sArr([]int{k, 3}, xs...)).F
	col := func(e int) runtime.Value { return sArr([]int{k}, xs[e], xs[3+e], xs[6+e], xs[9+e]) }
	mul := func(x, y runtime.Value) runtime.Value {
		return runtime.Arr(mustEval(t, ir.PrimSeriesMul, ir.SeriesSS, x, y))
	}
	want := mul(mul(col(0), col(1)), col(2)).Array().F
	if !closeSlices(got, want, 1e-14) {
		t.Errorf("series_prod = %v; want %v", got, want)
	}
}

// TestSeriesAccumulators: in-place updates of series accumulators.
func TestSeriesAccumulators(t *testing.T) {
	acc := sArr([]int{2, 3}, 1, 2, 3, 4, 5, 6)
	got := mustEval(t, ir.PrimSeriesAccAdd, ir.SeriesSS, acc, sArr([]int{2}, 10, 20))
	if got != acc.Array() || !closeSlices(got.F, []float64{11, 12, 13, 24, 25, 26}, 0) {
		t.Errorf("series_acc_add of a series of scalars: %v", got.F)
	}
	mustEval(t, ir.PrimSeriesAccAdd, ir.SeriesSS, acc, sArr([]int{2, 3}, 1, 1, 1, 1, 1, 1))
	mustEval(t, ir.PrimSeriesAccAdd, ir.SeriesSC, acc, runtime.F64(100))
	mustEval(t, ir.PrimSeriesAccAdd, ir.SeriesSC, acc, sArr([]int{3}, 1, 2, 3))
	if !closeSlices(acc.Array().F, []float64{113, 115, 117, 25, 26, 27}, 0) {
		t.Errorf("series_acc_add: %v", acc.Array().F)
	}
	acc = sArr([]int{2, 3}, 0, 0, 0, 0, 0, 0)
	mustEval(t, ir.PrimSeriesAccAddAt, ir.SeriesSS, acc, runtime.I64(1), sArr([]int{2}, 5, 7))
	mustEval(t, ir.PrimSeriesAccAddAt, ir.SeriesSC, acc, runtime.I64(2), runtime.F64(3))
	if !closeSlices(acc.Array().F, []float64{0, 5, 3, 0, 7, 0}, 0) {
		t.Errorf("series_acc_add_at: %v", acc.Array().F)
	}
	acc2 := sArr([]int{2, 2, 2}, make([]float64, 8)...)
	mustEval(t, ir.PrimSeriesAccAddAt, ir.SeriesSS, acc2, runtime.I64(1), sArr([]int{2, 2}, 1, 2, 3, 4))
	mustEval(t, ir.PrimSeriesAccAddAt, ir.SeriesSC, acc2, runtime.I64(0), sArr([]int{2}, 9, 9))
	if !closeSlices(acc2.Array().F, []float64{9, 9, 1, 2, 0, 0, 3, 4}, 0) {
		t.Errorf("series_acc_add_at of rows: %v", acc2.Array().F)
	}
	if _, err := sEval(ir.PrimSeriesAccAddAt, ir.SeriesSC, acc, runtime.I64(3), runtime.F64(1)); err == nil {
		t.Error("series_acc_add_at out of range: no error")
	}
}

// TestSeriesTypeErrors: the type rules reject what the evaluators cannot
// run, and the evaluators check what only run time knows.
func TestSeriesTypeErrors(t *testing.T) {
	k3 := ir.ArrayOf(ir.ConstDim(3), ir.TF64)
	k4 := ir.ArrayOf(ir.ConstDim(4), ir.TF64)
	k3v2 := ir.ArrayOf(ir.ConstDim(3), ir.ArrayOf(ir.ConstDim(2), ir.TF64))
	k3v5 := ir.ArrayOf(ir.ConstDim(3), ir.ArrayOf(ir.ConstDim(5), ir.TF64))
	bad := []struct {
		p    *ir.Prim
		aux  any
		args []ir.Type
		want string
	}{
		{ir.PrimSeriesExp, nil, []ir.Type{ir.TF64}, "want a series"},
		{ir.PrimSeriesExp, nil, []ir.Type{ir.ArrayOf(ir.ConstDim(3), ir.TI64)}, "want a series"},
		{ir.PrimSeriesMul, ir.SeriesSS, []ir.Type{k3, k4}, "coefficients"},
		{ir.PrimSeriesMul, ir.SeriesSS, []ir.Type{k3v2, k3v5}, "differ"},
		{ir.PrimSeriesMul, ir.SeriesSC, []ir.Type{k3v2, ir.ArrayOf(ir.ConstDim(5), ir.TF64)}, "differ"},
		{ir.PrimSeriesMul, ir.SeriesSC, []ir.Type{k3, ir.TI64}, "operand 2"},
		{ir.PrimSeriesMul, "xy", []ir.Type{k3, k3}, "mode"},
		{ir.PrimSeriesProd, nil, []ir.Type{k3}, "array"},
		{ir.PrimSeriesAccAdd, ir.SeriesCS, []ir.Type{k3v2, k3v2}, "mode"},
	}
	for _, c := range bad {
		_, err := c.p.Type(c.args, c.aux)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s%v on %v: %v; want an error containing %q", c.p.Name, c.aux, c.args, err, c.want)
		}
	}
	if r, err := ir.PrimSeriesMul.Type([]ir.Type{k3, ir.ArrayOf(ir.ConstDim(5), ir.TF64)}, ir.SeriesSC); err != nil || r.String() != "[3][5]f64" {
		t.Errorf("a scalar series times a constant vector: %v, %v; want [3][5]f64", r, err)
	}
	// Run-time checks: coefficient counts and shapes.
	unknown := ir.ArrayOf(ir.Unknown, ir.TF64)
	if _, err := sEvalTyped(ir.PrimSeriesMul, ir.SeriesSS, []ir.Type{unknown, unknown}, sArr([]int{2}, 1, 2), sArr([]int{3}, 1, 2, 3)); err == nil {
		t.Error("series_mul of 2 and 3 coefficients: no error")
	}
	uv := ir.ArrayOf(ir.Unknown, unknown)
	if _, err := sEvalTyped(ir.PrimSeriesAdd, ir.SeriesSS, []ir.Type{uv, uv}, sArr([]int{1, 2}, 1, 2), sArr([]int{1, 3}, 1, 2, 3)); err == nil {
		t.Error("series_add of shapes [2] and [3]: no error")
	}
}

// TestSeriesPrintable: series primitives print with their Aux.
func TestSeriesPrintable(t *testing.T) {
	var b ir.Builder
	s := b.Var("s", ir.ArrayOf(ir.ConstDim(3), ir.TF64))
	e := b.PrimAux(ir.PrimSeriesMul, ir.SeriesSC, s, b.F64(2))
	if got := ir.PrintExpr(e); got != "series_mul[sc](s, 2.0)" {
		t.Errorf("print: %s", got)
	}
	c := &ir.SeriesCoef{Prim: ir.PrimSlice, Aux: ir.ConstDim(2), Series: []bool{true, false, false}}
	if got := c.String(); got != "slice[2] scc" {
		t.Errorf("SeriesCoef.String() = %q", got)
	}
}
