package runtime_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/nabla-lang/nabla/runtime"
)

// The series kernels are checked against Taylor coefficients known in
// closed form: the series of f(x0 + t) has coefficient j = f⁽ʲ⁾(x0)/j!.
// (ir's tests check them again through the evaluators, against finite
// differences and identities.)

// line is the series x0 + t, truncated to k coefficients.
func line(x0 float64, k int) []float64 {
	s := make([]float64, k)
	s[0] = x0
	if k > 1 {
		s[1] = 1
	}
	return s
}

// constant is the series c, truncated to k coefficients.
func constant(c float64, k int) []float64 {
	s := make([]float64, k)
	s[0] = c
	return s
}

// taylor is the series of f(x0 + t) from its derivatives d(j) at x0.
func taylor(k int, d func(j int) float64) []float64 {
	s := make([]float64, k)
	fact := 1.0
	for j := range s {
		if j > 0 {
			fact *= float64(j)
		}
		s[j] = d(j) / fact
	}
	return s
}

// closeCoefs compares coefficients to a relative tolerance, NaN equal to
// NaN.
func closeCoefs(got, want []float64, tol float64) bool {
	if len(got) != len(want) {
		return false
	}
	for i := range got {
		if math.IsNaN(got[i]) || math.IsNaN(want[i]) {
			if math.IsNaN(got[i]) != math.IsNaN(want[i]) {
				return false
			}
			continue
		}
		if got[i] != want[i] && math.Abs(got[i]-want[i]) > tol*math.Max(1, math.Abs(want[i])) {
			return false
		}
	}
	return true
}

func TestSeriesUnaryTaylor(t *testing.T) {
	const k = 7
	cycle := func(fs ...func(float64) float64) func(x float64) func(int) float64 {
		return func(x float64) func(int) float64 { return func(j int) float64 { return fs[j%len(fs)](x) } }
	}
	neg := func(f func(float64) float64) func(float64) float64 { return func(x float64) float64 { return -f(x) } }
	cases := []struct {
		name string
		f    runtime.SeriesFunc1
		x0   float64
		d    func(x float64) func(j int) float64
	}{
		{"exp", runtime.SeriesExp, 0.3, func(x float64) func(int) float64 { return func(int) float64 { return math.Exp(x) } }},
		{"expm1 near 0", runtime.SeriesExpm1, 1e-10, func(x float64) func(int) float64 {
			return func(j int) float64 {
				if j == 0 {
					return math.Expm1(x)
				}
				return math.Exp(x)
			}
		}},
		{"log", runtime.SeriesLog, 1.7, func(x float64) func(int) float64 {
			return func(j int) float64 {
				if j == 0 {
					return math.Log(x)
				}
				// d^j log x = (-1)^(j-1) (j-1)! / x^j
				return math.Pow(-1, float64(j-1)) * math.Gamma(float64(j)) / math.Pow(x, float64(j))
			}
		}},
		{"log1p", runtime.SeriesLog1p, 0.7, func(x float64) func(int) float64 {
			return func(j int) float64 {
				if j == 0 {
					return math.Log1p(x)
				}
				return math.Pow(-1, float64(j-1)) * math.Gamma(float64(j)) / math.Pow(1+x, float64(j))
			}
		}},
		{"sqrt", runtime.SeriesSqrt, 2.3, func(x float64) func(int) float64 {
			return func(j int) float64 {
				// d^j x^(1/2) = (1/2)(1/2 - 1)...(1/2 - j + 1) x^(1/2 - j)
				c := 1.0
				for i := 0; i < j; i++ {
					c *= 0.5 - float64(i)
				}
				return c * math.Pow(x, 0.5-float64(j))
			}
		}},
		{"sin", runtime.SeriesSin, 0.9, cycle(math.Sin, math.Cos, neg(math.Sin), neg(math.Cos))},
		{"cos", runtime.SeriesCos, 0.9, cycle(math.Cos, neg(math.Sin), neg(math.Cos), math.Sin)},
		{"sinh", runtime.SeriesSinh, -0.4, cycle(math.Sinh, math.Cosh)},
		{"cosh", runtime.SeriesCosh, -0.4, cycle(math.Cosh, math.Sinh)},
	}
	for _, c := range cases {
		var w runtime.SeriesWork
		y := make([]float64, k)
		c.f(y, line(c.x0, k), &w)
		if want := taylor(k, c.d(c.x0)); !closeCoefs(y, want, 1e-13) {
			t.Errorf("%s at %g:\n\tgot  %v\n\twant %v", c.name, c.x0, y, want)
		}
		// One coefficient is the function's value; a constant stays one.
		y1 := make([]float64, 1)
		c.f(y1, []float64{c.x0}, &w)
		c.f(y, constant(c.x0, k), &w)
		if y1[0] != y[0] || !closeCoefs(y[1:], make([]float64, k-1), 0) {
			t.Errorf("%s of the constant %g = %v (one coefficient: %v)", c.name, c.x0, y, y1)
		}
	}
}

// TestSeriesUnaryComposite checks the kernels without short closed forms
// by composing kernels that do: tan = sin/cos, tanh = sinh/cosh, σ(x) =
// 1/(1 + exp(-x)), softplus = log1p(exp x), asin and acos against sin
// and cos inverted, atan from tan, erf' = 2/√π exp(-x²).
func TestSeriesUnaryComposite(t *testing.T) {
	const k = 8
	var w runtime.SeriesWork
	un := func(f runtime.SeriesFunc1, x []float64) []float64 {
		y := make([]float64, len(x))
		f(y, x, &w)
		return y
	}
	bin := func(f runtime.SeriesFunc2, x, y []float64) []float64 {
		z := make([]float64, len(x))
		f(z, x, y, true, true, &w)
		return z
	}
	x := []float64{0.35, 1.1, -0.6, 0.2, 0, 0, 0, 0}
	negx := un(func(y, x []float64, _ *runtime.SeriesWork) {
		for j := range y {
			y[j] = -x[j]
		}
	}, x)
	one := constant(1, k)
	twoOverSqrtPi := constant(2/math.SqrtPi, k)
	deriv := func(s []float64) []float64 { // the series of d/dt, one shorter
		d := make([]float64, len(s)-1)
		for j := range d {
			d[j] = float64(j+1) * s[j+1]
		}
		return d
	}
	for _, c := range []struct {
		name      string
		got, want []float64
	}{
		{"tan", un(runtime.SeriesTan, x), bin(runtime.SeriesDiv, un(runtime.SeriesSin, x), un(runtime.SeriesCos, x))},
		{"tanh", un(runtime.SeriesTanh, x), bin(runtime.SeriesDiv, un(runtime.SeriesSinh, x), un(runtime.SeriesCosh, x))},
		{"sigmoid", un(runtime.SeriesSigmoid, x), bin(runtime.SeriesDiv, one, bin(runtime.SeriesAdd, one, un(runtime.SeriesExp, negx)))},
		{"softplus", un(runtime.SeriesSoftplus, x), un(runtime.SeriesLog1p, un(runtime.SeriesExp, x))},
		{"asin", un(runtime.SeriesSin, un(runtime.SeriesAsin, x)), x},
		{"acos", un(runtime.SeriesCos, un(runtime.SeriesAcos, x)), x},
		{"atan", un(runtime.SeriesTan, un(runtime.SeriesAtan, x)), x},
		// d/dt erf(x(t)) = 2/√π exp(-x²) x'.
		{"erf", deriv(un(runtime.SeriesErf, x)), bin(runtime.SeriesMul, bin(runtime.SeriesMul, twoOverSqrtPi, un(runtime.SeriesExp, bin(runtime.SeriesMul, negx, x))), append(deriv(x), 0))[:k-1]},
	} {
		if !closeCoefs(c.got, c.want, 1e-12) {
			t.Errorf("%s:\n\tgot  %v\n\twant %v", c.name, c.got, c.want)
		}
	}
}

func TestSeriesPiecewise(t *testing.T) {
	var w runtime.SeriesWork
	for _, c := range []struct {
		name string
		f    runtime.SeriesFunc1
		x    []float64
		want []float64
	}{
		{"abs positive", runtime.SeriesAbs, []float64{2, -1, 3}, []float64{2, -1, 3}},
		{"abs negative", runtime.SeriesAbs, []float64{-2, -1, 3}, []float64{2, 1, -3}},
		{"abs at 0 (abs'(0) = 0)", runtime.SeriesAbs, []float64{0, -1, 3}, []float64{0, 0, 0}},
		{"abs NaN", runtime.SeriesAbs, []float64{nan, 1, 1}, []float64{nan, nan, nan}},
		{"relu positive", runtime.SeriesRelu, []float64{2, -1, 3}, []float64{2, -1, 3}},
		{"relu at 0", runtime.SeriesRelu, []float64{0, 1, 3}, []float64{0, 0, 0}},
		{"relu NaN", runtime.SeriesRelu, []float64{nan, 1, 3}, []float64{0, 0, 0}},
		{"exp NaN", runtime.SeriesExp, []float64{nan, 1, 0}, []float64{nan, nan, nan}},
		{"log 0", runtime.SeriesLog, []float64{0, 1, 0}, []float64{math.Inf(-1), math.Inf(1), math.Inf(-1)}},
		{"sqrt 0", runtime.SeriesSqrt, []float64{0, 1, 0}, []float64{0, math.Inf(1), math.Inf(-1)}},
	} {
		y := []float64{7, 7, 7} // every coefficient is written
		c.f(y, c.x, &w)
		if !closeCoefs(y, c.want, 0) {
			t.Errorf("%s: %v; want %v", c.name, y, c.want)
		}
	}
}

func TestSeriesBinary(t *testing.T) {
	const k = 6
	var w runtime.SeriesWork
	x, y := line(1.3, k), []float64{0.7, -0.4, 0.1, 0, 0, 0}
	run := func(f runtime.SeriesFunc2, x, y []float64, xs, ys bool) []float64 {
		z := make([]float64, len(x))
		for j := range z {
			z[j] = 99 // every coefficient is written
		}
		f(z, x, y, xs, ys, &w)
		return z
	}
	cauchy := func(x, y []float64) []float64 {
		z := make([]float64, len(x))
		for j := range z {
			for i := 0; i <= j; i++ {
				z[j] += x[i] * y[j-i]
			}
		}
		return z
	}
	exp := func(s []float64) []float64 { z := make([]float64, len(s)); runtime.SeriesExp(z, s, &w); return z }
	log := func(s []float64) []float64 { z := make([]float64, len(s)); runtime.SeriesLog(z, s, &w); return z }
	c := constant(2.5, k)
	for _, tc := range []struct {
		name      string
		got, want []float64
	}{
		{"add", run(runtime.SeriesAdd, x, y, true, true), []float64{2, 0.6, 0.1, 0, 0, 0}},
		{"sub", run(runtime.SeriesSub, x, y, true, true), []float64{0.6, 1.4, -0.1, 0, 0, 0}},
		{"mul", run(runtime.SeriesMul, x, y, true, true), cauchy(x, y)},
		{"mul by a constant", run(runtime.SeriesMul, c, y, false, true), cauchy(c, y)},
		{"mul by a constant on the right", run(runtime.SeriesMul, x, c, true, false), cauchy(x, c)},
		{"div", run(runtime.SeriesMul, run(runtime.SeriesDiv, x, y, true, true), y, true, true), x},
		{"div by a constant", run(runtime.SeriesDiv, x, c, true, false), []float64{1.3 / 2.5, 1 / 2.5, 0, 0, 0, 0}},
		{"pow", run(runtime.SeriesPow, y, x, true, true), exp(cauchy(x, log(y)))},
		{"pow of a constant base", run(runtime.SeriesPow, c, x, false, true), exp(cauchy(x, log(c)))},
		{"pow of a zero base", run(runtime.SeriesPow, constant(0, k), x, false, true), constant(0, k)},
		{"pow by a constant", run(runtime.SeriesPow, x, constant(3, k), true, false), cauchy(x, cauchy(x, x))},
		{"pow by 0", run(runtime.SeriesPow, x, constant(0, k), true, false), constant(1, k)},
		{"pow 0 by 3", run(runtime.SeriesPow, line(0, k), constant(3, k), true, false), []float64{0, 0, 0, 1, 0, 0}},
		{"pow 0 by 2.5 (no series)", run(runtime.SeriesPow, line(0, 4), constant(2.5, 4), true, false), []float64{0, 0, 0, nan}},
		{"pow 0 by -1 (a pole)", run(runtime.SeriesPow, line(0, 3), constant(-1, 3), true, false), []float64{math.Inf(1), nan, nan}},
		{"atan2 = atan(x/y)", run(runtime.SeriesAtan2, y, x, true, true), func() []float64 {
			z := make([]float64, k)
			runtime.SeriesAtan(z, run(runtime.SeriesDiv, y, x, true, true), &w)
			return z
		}()},
		{"atan2 one coefficient", run(runtime.SeriesAtan2, []float64{1}, []float64{-1}, true, true), []float64{math.Atan2(1, -1)}},
		{"mod", run(runtime.SeriesMod, []float64{7.5, 1, 2}, []float64{2, 0.5, 0}, true, true), []float64{1.5, -0.5, 2}},
		{"max picks y", run(runtime.SeriesMax, x, []float64{2, 9, 9, 9, 9, 9}, true, true), []float64{2, 9, 9, 9, 9, 9}},
		{"max tie picks x", run(runtime.SeriesMax, x, line(1.3, k)[:k:k], true, true), x},
		{"max NaN", run(runtime.SeriesMax, x, []float64{nan, 1, 1, 1, 1, 1}, true, true), []float64{nan, 1, 1, 1, 1, 1}},
		{"min picks y", run(runtime.SeriesMin, x, y, true, true), y},
		{"min NaN in x stays", run(runtime.SeriesMin, []float64{nan, 1}, []float64{0, 2}, true, true), []float64{nan, 1}},
	} {
		if !closeCoefs(tc.got, tc.want, 1e-12) {
			t.Errorf("%s:\n\tgot  %v\n\twant %v", tc.name, tc.got, tc.want)
		}
	}
}

// TestSeriesProd: the product of the elements' series, coefficient-major.
func TestSeriesProd(t *testing.T) {
	var w runtime.SeriesWork
	const k = 4
	// Three elements: columns of a [4][3] series.
	x := []float64{
		1, 2, -1,
		0.5, 1, 0,
		0, 0.25, 2,
		1, 0, 0,
	}
	col := func(e int) []float64 { return []float64{x[e], x[3+e], x[6+e], x[9+e]} }
	mul := func(a, b []float64) []float64 {
		z := make([]float64, k)
		runtime.SeriesMul(z, a, b, true, true, &w)
		return z
	}
	want := mul(mul(col(0), col(1)), col(2))
	z := []float64{9, 9, 9, 9}
	runtime.SeriesProd(z, x, &w)
	if !closeCoefs(z, want, 1e-15) {
		t.Errorf("SeriesProd = %v; want %v", z, want)
	}
	runtime.SeriesProd(z, nil, &w) // no elements
	if !closeCoefs(z, []float64{1, 0, 0, 0}, 0) {
		t.Errorf("SeriesProd of no elements = %v; want [1 0 0 0]", z)
	}
	runtime.SeriesProd(nil, nil, &w) // no coefficients
}

// TestSeriesMaps: SeriesMap1 and SeriesMap2 run the kernel on each
// strided element, broadcasting scalars and constants.
func TestSeriesMaps(t *testing.T) {
	var w runtime.SeriesWork
	const k, n = 3, 4
	x := make([]float64, k*n) // x[j*n+e]
	y := make([]float64, k*n)
	for i := range x {
		x[i] = 0.1 + 0.05*float64(i)
		y[i] = 1 - 0.03*float64(i)
	}
	elem := func(s []float64, e int) []float64 {
		c := make([]float64, k)
		for j := range c {
			c[j] = s[j*n+e]
		}
		return c
	}
	check := func(name string, out []float64, want func(e int) []float64) {
		t.Helper()
		for e := 0; e < n; e++ {
			if got := elem(out, e); !closeCoefs(got, want(e), 0) {
				t.Errorf("%s, element %d: %v; want %v", name, e, got, want(e))
			}
		}
	}
	one := func(f runtime.SeriesFunc1, x []float64) []float64 {
		y := make([]float64, len(x))
		f(y, x, &w)
		return y
	}
	two := func(f runtime.SeriesFunc2, x, y []float64, xs, ys bool) []float64 {
		z := make([]float64, len(x))
		f(z, x, y, xs, ys, &w)
		return z
	}

	out := make([]float64, k*n)
	runtime.SeriesMap1(out, x, k, runtime.SeriesSin, &w)
	check("SeriesMap1 sin", out, func(e int) []float64 { return one(runtime.SeriesSin, elem(x, e)) })

	series := func(s []float64, per int) runtime.SeriesArg { return runtime.SeriesArg{Series: true, F: s, N: per} }
	runtime.SeriesMap2(out, k, series(x, n), series(y, n), runtime.SeriesDiv, &w)
	check("SeriesMap2 div", out, func(e int) []float64 { return two(runtime.SeriesDiv, elem(x, e), elem(y, e), true, true) })

	// A series of a scalar broadcasts over a series of an array.
	s := []float64{2, 0.5, -1}
	runtime.SeriesMap2(out, k, series(s, 1), series(y, n), runtime.SeriesMul, &w)
	check("SeriesMap2 scalar series", out, func(e int) []float64 { return two(runtime.SeriesMul, s, elem(y, e), true, true) })

	// A constant array: element e's coefficient 0 is c[e].
	c := []float64{1, 2, 3, 4}
	runtime.SeriesMap2(out, k, runtime.SeriesArg{F: c, N: n}, series(y, n), runtime.SeriesPow, &w)
	check("SeriesMap2 constant array", out, func(e int) []float64 { return two(runtime.SeriesPow, constant(c[e], k), elem(y, e), false, true) })

	// A scalar constant.
	runtime.SeriesMap2(out, k, series(x, n), runtime.SeriesArg{C: 0.5, N: 1}, runtime.SeriesSub, &w)
	check("SeriesMap2 scalar constant", out, func(e int) []float64 { return two(runtime.SeriesSub, elem(x, e), constant(0.5, k), true, false) })

	// One element runs in place; no coefficients do nothing.
	out1 := make([]float64, k)
	runtime.SeriesMap1(out1, s, k, runtime.SeriesExp, &w)
	if want := one(runtime.SeriesExp, s); !closeCoefs(out1, want, 0) {
		t.Errorf("SeriesMap1 of one element: %v; want %v", out1, want)
	}
	runtime.SeriesMap1(nil, nil, 0, runtime.SeriesExp, &w)
	runtime.SeriesMap2(nil, 0, series(nil, 0), series(nil, 0), runtime.SeriesAdd, &w)
	mustPanic(t, "SeriesMap1", func() { runtime.SeriesMap1(out1, x, k, runtime.SeriesExp, &w) })
	mustPanic(t, "SeriesMap2", func() { runtime.SeriesMap2(out, k, series(x[1:], n), series(y, n), runtime.SeriesAdd, &w) })
	mustPanic(t, "SeriesMap2", func() {
		runtime.SeriesMap2(out, k, series(x, n), runtime.SeriesArg{F: c[1:], N: 3}, runtime.SeriesAdd, &w)
	})
}

// TestSeriesWorkReuse: kernels give their scratch back, so a reused
// workspace stops allocating, and nesting kernels keeps results intact.
func TestSeriesWorkReuse(t *testing.T) {
	var w runtime.SeriesWork
	const k, n = 6, 50
	x := make([]float64, k*n)
	for i := range x {
		x[i] = 0.2 + 0.01*float64(i)
	}
	out := make([]float64, k*n)
	kernels := map[string]func(){
		"SeriesMap1 softplus": func() { runtime.SeriesMap1(out, x, k, runtime.SeriesSoftplus, &w) },
		"SeriesMap2 pow": func() {
			runtime.SeriesMap2(out, k, runtime.SeriesArg{Series: true, F: x, N: n}, runtime.SeriesArg{Series: true, F: x, N: n}, runtime.SeriesPow, &w)
		},
		"SeriesErf":  func() { runtime.SeriesErf(out[:k], x[:k], &w) },
		"SeriesProd": func() { runtime.SeriesProd(out[:k], x, &w) },
	}
	for name, f := range kernels {
		f() // grow the workspace
		if a := testing.AllocsPerRun(20, f); a != 0 {
			t.Errorf("%s allocates %v times per call with a reused workspace", name, a)
		}
	}
	// The same results from a fresh workspace and from one already used.
	var fresh runtime.SeriesWork
	a, b := make([]float64, k), make([]float64, k)
	runtime.SeriesAtan2(a, x[:k], x[k:2*k], true, true, &fresh)
	runtime.SeriesAtan2(b, x[:k], x[k:2*k], true, true, &w)
	if fmt.Sprint(a) != fmt.Sprint(b) {
		t.Errorf("SeriesAtan2 depends on the workspace's history: %v and %v", a, b)
	}
}
