package ad_test

import (
	"math"
	"math/cmplx"
	"testing"
)

// cauchyCoefs are the first k+1 normalized Taylor coefficients of an
// analytic f at x, by the trapezoidal rule on Cauchy's integral over a
// circle of radius r (spectrally accurate, no truncation of a series).
func cauchyCoefs(f func(complex128) complex128, x, r float64, k int) []float64 {
	const n = 128
	out := make([]float64, k+1)
	for p := range n {
		th := 2 * math.Pi * float64(p) / n
		z := cmplx.Rect(r, th)
		fz := f(complex(x, 0) + z)
		for j := range out {
			out[j] += real(fz*cmplx.Rect(1, -float64(j)*th)) / n / math.Pow(r, float64(j))
		}
	}
	return out
}

// binomSeries are the coefficients of (x + t)^a.
func binomSeries(x, a float64, k int) []float64 {
	out := make([]float64, k+1)
	c := 1.0
	for j := range out {
		out[j] = c * math.Pow(x, a-float64(j))
		c *= (a - float64(j)) / float64(j+1)
	}
	return out
}

// Taylor mode through custom and implicit rules (SPEC §6): exact series,
// checked against closed forms to order 8.
const taylorRulesProgram = `
// A @jvp exp that calls itself in its rule, and a tanh whose tangent uses
// its value: the series is integrated from the rule along the curve.
def e_jvp(x: f64, dx: f64) = (myexp(x), myexp(x) * dx)
@jvp(e_jvp)
def myexp(x: f64): f64 = exp(x)
def th_jvp(x: f64, dx: f64) = let y = mytanh(x) in (y, (1.0 - y * y) * dx)
@jvp(th_jvp)
def mytanh(x: f64): f64 = tanh(x)
// A rule whose tangent does not need the value (evaluated once).
def sp_jvp(x: f64, dx: f64) = (mysp(x), sigmoid(x) * dx)
@jvp(sp_jvp)
def mysp(x: f64): f64 = log(1.0 + exp(x))
// Two parameters (the rule gets them as a tuple) and an array result.
def ae_jvp(p: (f64, [2]f64), dp: (f64, [2]f64)) = let y = ae(p.0, p.1) in (y, dp.0 * exp(p.1) + y * dp.1)
@jvp(ae_jvp)
def ae(a: f64, b: [2]f64): [2]f64 = a * exp(b)

def t_exp(x: f64) = taylor(myexp, x, 1.0, 8)
def t_tanh(x: f64) = taylor(mytanh, x, 1.0, 8)
def t_sp(x: f64) = taylor(mysp, x, 1.0, 8)
def t_ae(x: f64) = taylor(fn(s) => ae(s, [2.0 * s, -s]), x, 1.0, 6)
def t_ae_native(x: f64) = taylor(fn(s) => s * exp([2.0 * s, -s]), x, 1.0, 6)
def j_exp(x: f64, v1: f64, v2: f64) = jet(myexp, x, [v1, v2, 0.0, 0.0])
def j_exp_native(x: f64, v1: f64, v2: f64) = jet(exp, x, [v1, v2, 0.0, 0.0])
def t_comp(x: f64) = taylor(fn(s) => mytanh(myexp(s) * 0.5), x, 1.0, 6)
def t_comp_native(x: f64) = taylor(fn(s) => tanh(exp(s) * 0.5), x, 1.0, 6)

// Implicit functions: each coefficient solves one linear system.
def Fs(x: f64, th: f64): f64 = x * x - th
@implicit(Fs)
def isqrt(th: f64): f64 = stop_gradient(loop x = th for i < 60 do 0.5 * (x + th / x))
def Fv(x: [2]f64, th: f64): [2]f64 = [x[0] * x[0] - th, x[1] * x[1] * x[1] - th]
@implicit(Fv)
def roots(th: f64): [2]f64 = stop_gradient(loop x = [th, th] for i < 80 do
  [0.5 * (x[0] + th / x[0]), x[1] - (x[1] * x[1] * x[1] - th) / (3.0 * x[1] * x[1])])
// Nested: the equation of s6 calls the implicit isqrt.
def F6(z: f64, th: f64): f64 = z * z * z - isqrt(th)
@implicit(F6)
def s6(th: f64): f64 = stop_gradient(loop z = 1.0 for i < 80 do z - (z * z * z - sqrt(th)) / (3.0 * z * z))

def t_isqrt(x: f64) = taylor(isqrt, x, 1.0, 8)
def t_roots(x: f64) = taylor(roots, x, 1.0, 6)
def t_s6(x: f64) = taylor(s6, x, 1.0, 6)
// linsolve whose matrix depends on the series variable: Taylor of the
// derivatives of implicit functions.
def t_djvp(x: f64) = taylor(fn(s) => jvp(isqrt, s, 1.0).1, x, 1.0, 6)
def t_dgrad(x: f64) = taylor(grad(fn(s) => isqrt(s) * isqrt(s) * isqrt(s)), x, 1.0, 6)
`

func TestTaylorThroughRules(t *testing.T) {
	p := mustCompile(t, taylorRulesProgram)
	x := 0.5
	k := 8
	exps := make([]float64, k+1)
	for j := range exps {
		exps[j] = math.Exp(x) / tyFactorial(j)
	}
	tyCheck(t, "@jvp exp", tyFloats(t, p, "t_exp", x), exps, 1e-13)
	tyCheck(t, "@jvp tanh", tyFloats(t, p, "t_tanh", x), cauchyCoefs(cmplx.Tanh, x, 0.5, k), 1e-11)
	sp := func(z complex128) complex128 { return cmplx.Log(1 + cmplx.Exp(z)) }
	tyCheck(t, "@jvp softplus", tyFloats(t, p, "t_sp", x), cauchyCoefs(sp, x, 0.5, k), 1e-11)
	tyCheck(t, "@jvp of two parameters", flatAny(callAny(t, p, "t_ae", x)), flatAny(callAny(t, p, "t_ae_native", x)), 1e-12)
	tyCheck(t, "jet through @jvp", tyFloats(t, p, "j_exp", x, 0.7, -0.3), tyFloats(t, p, "j_exp_native", x, 0.7, -0.3), 1e-13)
	tyCheck(t, "composed rules", tyFloats(t, p, "t_comp", x), tyFloats(t, p, "t_comp_native", x), 1e-12)

	th := 2.0
	tyCheck(t, "@implicit sqrt", tyFloats(t, p, "t_isqrt", th), binomSeries(th, 0.5, k), 1e-12)
	roots := flatAny(callAny(t, p, "t_roots", th))
	sq, cb := binomSeries(th, 0.5, 6), binomSeries(th, 1.0/3, 6)
	var want []float64
	for j := range sq {
		want = append(want, sq[j], cb[j])
	}
	tyCheck(t, "@implicit vector", roots, want, 1e-12)
	tyCheck(t, "nested @implicit", tyFloats(t, p, "t_s6", th), binomSeries(th, 1.0/6, 6), 1e-11)
	d := binomSeries(th, -0.5, 6)
	for j := range d {
		d[j] *= 0.5
	}
	tyCheck(t, "Taylor of an implicit JVP (linsolve with a moving matrix)", tyFloats(t, p, "t_djvp", th), d, 1e-11)
	g := binomSeries(th, 0.5, 6)
	for j := range g {
		g[j] *= 1.5
	}
	tyCheck(t, "Taylor of an implicit gradient", tyFloats(t, p, "t_dgrad", th), g, 1e-11)
}
