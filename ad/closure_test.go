package ad_test

import (
	"math"
	"testing"
)

// closureProgram exercises closed-over values and function values
// (SPEC §6): nested operators that must not confuse their perturbations,
// derivatives flowing into closed-over data, function-typed parameters,
// defs returning lambdas and a standard-library driver taking a function,
// each under every mode.
const closureProgram = `
import "std/linalg"

// Perturbation confusion (Siskind and Pearlmutter): the inner derivative
// is with respect to x only, whatever the outer one differentiates.
def conf_rev(y: f64) = grad(fn(y) => grad(fn(x) => x * y)(1.0))(y)
def conf_fwd(y: f64) = jvp(fn(y) => jvp(fn(x) => x * y, 1.0, 1.0).1, y, 1.0).1
def conf_mix(y: f64) = jvp(fn(y) => grad(fn(x) => x * y)(1.0), y, 1.0).1
def conf_tay(y: f64) = taylor(fn(y) => grad(fn(x) => x * x * y)(1.0), y, 1.0, 2)
def conf_sp(x: f64) = grad(fn(x) => x * grad(fn(y) => x + y)(1.0))(x)

// Closed-over data: a constant of the inner gradient, differentiated by
// the outer one.
def loss(w: [2]f64, data: [2]f64): f64 = sum((w * data) ^ 2)
def gw(w: [2]f64, d: [2]f64) = grad(fn(w) => loss(w, d))(w)
def gd(d: [2]f64) = grad(fn(d) => sum(grad(fn(w) => loss(w, d))([1.0, 2.0])))(d)
def jd(d: [2]f64) = jacfwd(fn(d) => grad(fn(w) => loss(w, d))([1.0, 2.0]))(d)

// A lambda calling a function-typed parameter of the enclosing def.
def apply_grad(f: f64 -> f64, x: f64): f64 = grad(fn(y) => f(y) * y)(x)
def t1(x: f64): f64 = apply_grad(fn(z) => sin(z), x)
def t1_grad(x: f64) = grad(t1)(x)
def t1_jvp(x: f64) = jvp(t1, x, 1.0)
def t1_hess(x: f64) = hessian(t1)(x)
def t1_tay(x: f64) = taylor(t1, x, 1.0, 3)

// A def returning a lambda.
def mk(a: f64): f64 -> f64 = fn(x) => a * x * x
def t2(a: f64, x: f64) = grad(fn(a) => mk(a)(x))(a)
def t3(a: f64) = grad(mk(a))(2.0)
def t3_hess(a: f64) = hessian(fn(a) => mk(a)(a))(a)

// A standard-library driver taking a function, inside differentiated code.
def A = [[4.0, 1.0], [1.0, 3.0]]
def cgsum(a: f64): f64 = sum(linalg.cg(fn(v) => a * (A @ v), [1.0, 2.0], zeros(2), 1e-14, 50))
def cg_grad(a: f64) = grad(cgsum)(a)
def cg_jvp(a: f64) = jvp(cgsum, a, 1.0)
def cg_hess(a: f64) = hessian(cgsum)(a)
def cg_tay(a: f64) = taylor(cgsum, a, 1.0, 4)
`

func TestClosedOverValues(t *testing.T) {
	p := mustCompile(t, closureProgram)
	// cgsum(a) = s/a with s = sum(A⁻¹ [1, 2]) = (1 + 7)/11.
	s := 8.0 / 11
	a := 2.0
	x := 0.7
	sin, cos := math.Sin(x), math.Cos(x)
	cases := []struct {
		name string
		args []any
		want []float64
	}{
		{"conf_rev", []any{2.0}, []float64{1}},
		{"conf_fwd", []any{2.0}, []float64{1}},
		{"conf_mix", []any{2.0}, []float64{1}},
		{"conf_tay", []any{2.0}, []float64{4, 2, 0}},
		{"conf_sp", []any{3.0}, []float64{1}},
		{"gw", []any{[]float64{1, 2}, []float64{3, 5}}, []float64{2 * 9, 2 * 2 * 25}},
		{"gd", []any{[]float64{1, 3}}, []float64{4, 24}},
		{"jd", []any{[]float64{1, 3}}, []float64{4, 0, 0, 24}},
		// t1 = d/dx [sin(x) x] = x cos x + sin x
		{"t1", []any{x}, []float64{x*cos + sin}},
		{"t1_grad", []any{x}, []float64{2*cos - x*sin}},
		{"t1_jvp", []any{x}, []float64{x*cos + sin, 2*cos - x*sin}},
		{"t1_hess", []any{x}, []float64{-3*sin - x*cos}},
		{"t1_tay", []any{x}, []float64{x*cos + sin, 2*cos - x*sin, (-3*sin - x*cos) / 2, (x*sin - 4*cos) / 6}},
		{"t2", []any{1.5, 3.0}, []float64{9}},
		{"t3", []any{1.5}, []float64{6}},
		{"t3_hess", []any{1.5}, []float64{6 * 1.5}},
		{"cgsum", []any{a}, []float64{s / a}},
		{"cg_grad", []any{a}, []float64{-s / (a * a)}},
		{"cg_jvp", []any{a}, []float64{s / a, -s / (a * a)}},
		{"cg_hess", []any{a}, []float64{2 * s / (a * a * a)}},
		{"cg_tay", []any{a}, []float64{s / a, -s / (a * a), s / (a * a * a), -s / (a * a * a * a), s / (a * a * a * a * a)}},
	}
	for _, c := range cases {
		tyCheck(t, c.name, flatAny(callAny(t, p, c.name, c.args...)), c.want, 1e-12)
	}
}
