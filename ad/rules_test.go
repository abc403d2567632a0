package ad_test

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// Custom rules per SPEC §6: rules that call their own def, a def with
// both rules, a def with a @vjp rule only (no forward or Taylor mode),
// and differentiating the result of a rule.
const rulesProgram = `
// A JAX-style rule that calls the def it is attached to.
def sp_jvp(x: f64, dx: f64) = (mysp(x), sigmoid(x) * dx)
@jvp(sp_jvp)
def mysp(x: f64): f64 = log(1.0 + exp(x))
def sp_grad(x: f64) = grad(mysp)(x)
def sp_jvp1(x: f64) = jvp(mysp, x, 1.0)
def sp_vjp(x: f64) = vjp(mysp, x, 2.0)
def sp_hess(x: f64) = hessian(mysp)(x)
def sp_jf(x: [n]f64) = jacfwd(fn(v) => map(mysp, v))(x)
def sp_jr(x: [n]f64) = jacrev(fn(v) => map(mysp, v))(x)
def sp_gg(x: f64) = grad(grad(mysp))(x)

// A @vjp rule that calls its def: reverse over reverse differentiates it.
def e_vjp(x: f64, ybar: f64): f64 = ybar * myexp(x)
@vjp(e_vjp)
def myexp(x: f64): f64 = exp(x)
def e_grad(x: f64) = grad(myexp)(x)
def e_gg(x: f64) = grad(grad(myexp))(x)
def e_jr(x: [n]f64) = jacrev(fn(v) => map(myexp, v))(x)

// Both rules, each deliberately different from the body's derivative:
// each mode uses its own, and forward over reverse differentiates the
// @vjp rule's code (its derivative is 6x, whatever the body).
def c_jvp(x: f64, dx: f64) = (c(x), 42.0 * dx)
def c_vjp(x: f64, ybar: f64): f64 = ybar * 3.0 * x * x
@jvp(c_jvp) @vjp(c_vjp)
def c(x: f64): f64 = x * x
def c_fwd(x: f64) = jvp(c, x, 1.0).1
def c_rev(x: f64) = grad(c)(x)
def c_hess(x: f64) = hessian(c)(x)
def c_jf(x: f64) = jacfwd(c)(x)
def c_jr(x: f64) = jacrev(c)(x)

// A @jvp rule only, deliberately not the body's derivative: reverse mode
// transposes it, and forward over reverse differentiates its code.
def q_jvp(x: f64, dx: f64) = (q(x), 100.0 * x * dx)
@jvp(q_jvp)
def q(x: f64): f64 = x * x
def q_rev(x: f64) = grad(q)(x)
def q_hess(x: f64) = hessian(q)(x)
def q_hvp(x: f64) = hvp(q, x, 2.0)
`

func TestCustomRules(t *testing.T) {
	p := mustCompile(t, rulesProgram)
	x := 0.5
	s := 1 / (1 + math.Exp(-x))
	cases := []struct {
		name string
		args []any
		want []float64
	}{
		{"sp_grad", []any{x}, []float64{s}},
		{"sp_jvp1", []any{x}, []float64{math.Log1p(math.Exp(x)), s}},
		{"sp_vjp", []any{x}, []float64{math.Log1p(math.Exp(x)), 2 * s}},
		{"sp_hess", []any{x}, []float64{s * (1 - s)}},
		{"sp_gg", []any{x}, []float64{s * (1 - s)}},
		{"sp_jf", []any{[]float64{x, -x}}, []float64{s, 0, 0, 1 - s}},
		{"sp_jr", []any{[]float64{x, -x}}, []float64{s, 0, 0, 1 - s}},
		{"e_grad", []any{x}, []float64{math.Exp(x)}},
		{"e_gg", []any{x}, []float64{math.Exp(x)}},
		{"e_jr", []any{[]float64{x, 2 * x}}, []float64{math.Exp(x), 0, 0, math.Exp(2 * x)}},
		{"c_fwd", []any{x}, []float64{42}},
		{"c_rev", []any{x}, []float64{3 * x * x}},
		{"c_hess", []any{x}, []float64{6 * x}},
		{"c_jf", []any{x}, []float64{42}},
		{"c_jr", []any{x}, []float64{3 * x * x}},
		{"q_rev", []any{x}, []float64{100 * x}},
		{"q_hess", []any{x}, []float64{100}},
		{"q_hvp", []any{x}, []float64{200}},
	}
	for _, c := range cases {
		tyCheck(t, c.name, flatAny(callAny(t, p, c.name, c.args...)), c.want, 1e-12)
	}
}

// TestVJPOnlyHasNoForwardMode: issue 8 defect 7. With a fake @vjp rule
// (100·ybar) on x², grad gives 100; every forward or Taylor operator on
// the def, directly or through a caller, is a compile error naming the
// def and its rule, positioned at the operator. Forward over reverse
// through caller needs f's own tangent (the rule's result is multiplied
// by cos(f(x))), so it is an error too; through f alone it is not
// (TestVJPOnlyForwardOverReverse).
func TestVJPOnlyHasNoForwardMode(t *testing.T) {
	const base = `def fake(x: f64, ybar: f64): f64 = 100.0 * ybar
@vjp(fake)
def f(x: f64): f64 = x * x
def caller(x: f64): f64 = sin(f(x))
`
	p := mustCompile(t, base+"def g(x: f64) = grad(f)(x)\ndef gc(x: f64) = grad(caller)(x)\ndef jr(x: f64) = jacrev(f)(x)\n")
	tyCheck(t, "grad", flatAny(callAny(t, p, "g", 3.0)), []float64{100}, 0)
	tyCheck(t, "grad through a caller", flatAny(callAny(t, p, "gc", 3.0)), []float64{math.Cos(9) * 100}, 1e-15)
	tyCheck(t, "jacrev", flatAny(callAny(t, p, "jr", 3.0)), []float64{100}, 0)
	for _, use := range []string{
		"jvp(f, x, 1.0)", "jvp(caller, x, 1.0)", "jacfwd(f)(x)", "jacfwd(caller)(x)",
		"hessian(caller)(x)", "hvp(caller, x, 1.0)",
		"taylor(f, x, 1.0, 3)", "taylor(caller, x, 1.0, 3)", "jet(caller, x, [1.0, 0.0])",
		"jvp(grad(caller), x, 1.0)", "taylor(grad(f), x, 1.0, 2)",
	} {
		src := base + "def main(x: f64) = " + use + "\n"
		msg := compileError(src)
		wantError(t, use, msg, "t.nab:5:", "f has a @vjp(fake) rule and no @jvp rule", "no forward or Taylor mode")
	}
}

// TestRuleLinearity: a @jvp rule transposed for reverse mode must be
// linear in its tangent (issue 15 item 4).
func TestRuleLinearity(t *testing.T) {
	cases := []struct {
		name, tangent string
		x             float64
		static        string  // a compile error naming this (at line 3 unless it says where)
		runtime       bool    // a run-time error at x
		grad          float64 // otherwise
	}{
		{"square", "dx * dx", 1, "multiplies two values that depend on the tangent", false, 0},
		{"affine", "x * dx + 1.0", 3, "nonzero constant", false, 0},
		{"branch", "if dx > 0.0 then dx else 0.0", 1, "compares (>)", false, 0},
		{"sin", "sin(dx)", 1, "applies sin", false, 0},
		{"abs", "abs(dx) * x", 1, "applies abs", false, 0},
		{"max", "max(dx, 0.0)", 1, "applies max", false, 0},
		{"quotient", "x / dx", 1, "divides by a value that depends on the tangent", false, 0},
		{"power", "dx ^ 2.0", 1, "raises a value that depends on the tangent", false, 0},
		{"constant tangent", "2.0", 1, "nonzero constant", false, 0},
		{"loop bound", "loop s = dx for i < i64(dx) do s", 1, "uses i64", false, 0},
		{"affine, computed", "x * dx + cos(x)", 3, "", true, 0},
		{"affine, computed, zero", "cos(x) * dx + h(x) - x", 3, "", false, math.Cos(3)},
		{"linear", "cos(x) * dx", 0.7, "", false, math.Cos(0.7)},
		{"zero", "0.0", 0.7, "", false, 0},
		{"through a call", "lin2(cos(x), dx)", 0.7, "", false, math.Cos(0.7)},
		{"loop", "loop s = 0.0 * dx for i < 3 do s + x * dx", 2, "", false, 6},
		{"branch on x", "if x > 0.0 then dx else -dx", -2, "", false, -1},
		{"array", "sum([dx, 2.0 * dx, x * dx])", 2, "", false, 5},
		{"map", "sum(map(fn(v) => v * x, [dx, dx]))", 2, "", false, 4},
		{"product in a call", "lin2(dx, dx)", 1, "t.nab:2:35: the @jvp rule r of s is not linear in its tangent: it multiplies two values", false, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			src := fmt.Sprintf(`def h(x: f64): f64 = x
def lin2(a: f64, b: f64): f64 = a * b
def r(x: f64, dx: f64) = (sin(x), %s)
@jvp(r)
def s(x: f64): f64 = sin(x)
def g(x: f64) = grad(s)(x)
def j(x: f64) = jvp(s, x, 1.0).1
`, c.tangent)
			if c.static != "" {
				msg := compileError(src)
				wantError(t, "grad", msg, "@jvp rule r of s is not linear", c.static)
				if !strings.Contains(c.static, "t.nab:") && !strings.HasPrefix(msg, "t.nab:3:") {
					t.Errorf("the error %q is not positioned in the rule (line 3)", msg)
				}
				return
			}
			p := mustCompile(t, src)
			if c.runtime {
				wantError(t, "grad", callError(t, p, "g", c.x), "@jvp rule r of s is not linear", "t.nab:4:1")
				return
			}
			tyCheck(t, "grad", flatAny(callAny(t, p, "g", c.x)), []float64{c.grad}, 1e-12)
			tyCheck(t, "jvp", flatAny(callAny(t, p, "j", c.x)), []float64{c.grad}, 1e-12)
		})
	}
}

// TestRuleLinearityShapes: the analysis and the run-time check on
// arrays and tuples.
func TestRuleLinearityShapes(t *testing.T) {
	src := `def A = [[2.0, 1.0], [0.0, 3.0]]
def rv(x: [2]f64, dx: [2]f64) = (A @ x, A @ dx)
@jvp(rv)
def v(x: [2]f64): [2]f64 = A @ x
def jv(x: [2]f64) = jacrev(v)(x)
def rt(p: (f64, [2]f64), dp: (f64, [2]f64)) = (p.0 * sum(p.1), dp.0 * sum(p.1) + p.0 * sum(dp.1))
@jvp(rt)
def tp(a: f64, b: [2]f64): f64 = a * sum(b)
def gt(a: f64, b: [2]f64) = grad(tp)(a, b)
def sh(x: [2]f64): [2]f64 = x - x
def ru(x: [2]f64, dx: [2]f64) = (x, dx + sh(x))
@jvp(ru)
def u(x: [2]f64): [2]f64 = x
def gu(x: [2]f64) = grad(fn(x) => sum(u(x)))(x)
def rw(x: [2]f64, dx: [2]f64) = (x, dx + x)
@jvp(rw)
def w(x: [2]f64): [2]f64 = x
def gw(x: [2]f64) = grad(fn(x) => sum(w(x)))(x)
`
	p := mustCompile(t, src)
	tyCheck(t, "jacrev of a matrix rule", flatAny(callAny(t, p, "jv", []float64{1, 2})), []float64{2, 1, 0, 3}, 1e-15)
	tyCheck(t, "grad of a tuple rule", flatAny(callAny(t, p, "gt", 2.0, []float64{3, 5})), []float64{8, 2, 2}, 1e-15)
	tyCheck(t, "run-time check passes", flatAny(callAny(t, p, "gu", []float64{3, 5})), []float64{1, 1}, 1e-15)
	wantError(t, "run-time check fails", callError(t, p, "gw", []float64{3, 5}), "@jvp rule rw of w is not linear", "t.nab:16:1")
	if msg := callError(t, p, "gw", []float64{0, 0}); msg != "" {
		t.Errorf("at x = 0 the rule is linear, but: %s", msg)
	}
}
