package ad_test

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// linCases are functions g(x: [3]f64): [3]f64 whose Jacobian a def cols
// computes by one JVP per slot, jvp(g, x, e_s) in a build over s, and
// jac by jacfwd. hoisted tells whether the JVP's primal pass must run
// once, ahead of cols' build (linearize.go); false where a loop, a branch
// or a comprehension whose body may branch carries the primal value with
// its tangent, which the split leaves in the tangent map, so that the
// primal result cannot be read from the primal pass. A build of a size
// known only at run time, which may run no iteration, is never rewritten.
var linCases = []struct {
	name, body string
	hoisted    bool
}{
	{"element-wise", "sin(x) * x + exp(x[0])", true},
	{"calls", "h(x, 2.0) * h(x * x, x[1])", true},
	{"nested calls", "k(x) + h(k(x), 0.5)", true},
	{"comprehension", "[x * cos(x[i]) for i < 3][1]", true},
	{"branching comprehension", "[x[i] * x[(i + 1) % 3] + cos(x[i]) for i < 3]", false},
	{"loop result", "loop y = x for i < 3 do y * x + sin(y)", false},
	{"loop inside", "x * sum(loop y = x for i < 2 do y * y)", false},
	{"branch result", "if x[0] > 0.0 then x * x else sin(x)", false},
	{"reduction", "x * sum(x * x) + [sum(exp(x)), 1.0, x[2]]", true},
}

const linDefs = `
def h(a: [3]f64, b: f64): [3]f64 = a * b + sin(a)
def k(a: [3]f64): [3]f64 = h(a, a[2]) * a
`

func TestLinearizeSlots(t *testing.T) {
	for _, c := range linCases {
		t.Run(c.name, func(t *testing.T) {
			src := linDefs + "def g(x: [3]f64): [3]f64 = " + c.body + `
def cols(x: [3]f64) = [jvp(g, x, [if i == s then 1.0 else 0.0 for i < 3]).1 for s < 3]
def anyn(x: [3]f64, m: i64) = [jvp(g, x, [if i == s then 1.0 else 0.0 for i < 3]).1 for s < m]
def jac(x: [3]f64) = jacfwd(g)(x)
`
			p := mustCompile(t, src)
			rng := rand.New(rand.NewPCG(7, uint64(len(c.name))))
			x := []float64{rng.Float64() + 0.1, rng.Float64()*2 - 1, rng.Float64()*2 - 1}
			want := fdJacobian(3, func(v []float64) []float64 { return flatAny(callAny(t, p, "g", v)) }, x)
			// cols holds the Jacobian's columns: transpose it.
			got := flatAny(callAny(t, p, "cols", x))
			tr := make([]float64, 9)
			for i := range 3 {
				for j := range 3 {
					tr[i*3+j] = got[j*3+i]
				}
			}
			tyCheck(t, "cols", tr, want, 1e-7)
			tyCheck(t, "anyn", flatAny(callAny(t, p, "anyn", x, int64(3))), got, 0)
			tyCheck(t, "jacfwd", flatAny(callAny(t, p, "jac", x)), want, 1e-7)
			if n := len(flatAny(callAny(t, p, "anyn", x, int64(0)))); n != 0 {
				t.Errorf("anyn(x, 0) has %d elements", n)
			}

			out := expandSource(t, src)
			if got := primalHoisted(out.Def("cols")); got != c.hoisted {
				t.Errorf("cols: primal pass ahead of the build %v, want %v\n%s", got, c.hoisted, ir.PrintDef(out.Def("cols")))
			}
			if primalHoisted(out.Def("anyn")) {
				t.Errorf("anyn: the primal pass of a build of unknown size was hoisted\n%s", ir.PrintDef(out.Def("anyn")))
			}
		})
	}
}

// primalHoisted reports whether d's body calls a split JVP's primal def
// outside every lambda, and its tangent def inside one.
func primalHoisted(d *ir.Def) bool {
	prim, tan := false, false
	var walk func(e ir.Expr, inLambda bool)
	walk = func(e ir.Expr, inLambda bool) {
		if c, ok := e.(*ir.Call); ok {
			if g, ok := c.Fn.(*ir.Global); ok {
				prim = prim || !inLambda && strings.HasSuffix(g.Name, "$lin$prim")
				tan = tan || inLambda && strings.HasSuffix(g.Name, "$lin$tan")
			}
		}
		_, isLam := e.(*ir.Lambda)
		ir.EachChild(e, func(_ int, k ir.Expr) { walk(k, inLambda || isLam) })
	}
	walk(d.Body, false)
	return prim && tan
}

// TestLinearizeJacfwd checks that jacfwd of a def runs the primal pass
// once: the expanded def calls the JVP def nowhere, its split parts
// instead, and the Hessian (jacfwd over the gradient) and jacfwd of a
// lambda agree with jacrev.
func TestLinearizeJacfwd(t *testing.T) {
	src := linDefs + `
def f(x: [3]f64, b: f64): [3]f64 = k(x) * b + h(x, b)
def jf(x: [3]f64, b: f64) = jacfwd(f)(x, b)
def jr(x: [3]f64, b: f64) = jacrev(f)(x, b)
def s(x: [3]f64): f64 = sum(k(x) * x)
def hf(x: [3]f64) = hessian(s)(x)
def hr(x: [3]f64) = jacrev(grad(s))(x)
def lf(x: [3]f64, b: f64) = jacfwd(fn(y: [3]f64) => h(y, b) * y)(x)
def lr(x: [3]f64, b: f64) = jacrev(fn(y: [3]f64) => h(y, b) * y)(x)
`
	out := expandSource(t, src)
	jf := ir.PrintDef(out.Def("jf"))
	if strings.Contains(jf, "f$jvp(") || !strings.Contains(jf, "f$jvp$lin$prim(") {
		t.Errorf("jf does not run f's primal pass apart:\n%s", jf)
	}
	p := mustCompile(t, src)
	x := []float64{0.3, -0.8, 1.2}
	tyCheck(t, "jacfwd", flatAny(callAny(t, p, "jf", x, 0.7)), flatAny(callAny(t, p, "jr", x, 0.7)), 1e-12)
	tyCheck(t, "hessian", flatAny(callAny(t, p, "hf", x)), flatAny(callAny(t, p, "hr", x)), 1e-12)
	tyCheck(t, "lambda", flatAny(callAny(t, p, "lf", x, 0.7)), flatAny(callAny(t, p, "lr", x, 0.7)), 1e-12)
}
