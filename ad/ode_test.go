package ad_test

import (
	"math"
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestODEInContext: ode_dopri5's rules where the solve sits in other
// code (a map, a loop, a def that is not inlined, f a def rather than a
// lambda, closures over a matrix and a tuple), in every mode, against the
// closed form of y' = −k·y: y(T) = y0·e^(−kT). The expanded programs are
// checked to be valid IR (mustCompile).
func TestODEInContext(t *testing.T) {
	const src = `
def decay_rhs(t: f64, y: [1]f64): [1]f64 = -0.5 * y
def solve(k: f64, y0: f64, T: f64): f64 = ode_dopri5(fn(t, y) => -k * y, [y0], 0.0, T, 1e-10, 1e-12)[0]
@noinline
def apart(k: f64): f64 = solve(k, 1.0, 2.0)
def by_def(y0: f64): f64 = ode_dopri5(decay_rhs, [y0], 0.0, 2.0, 1e-10, 1e-12)[0]
def mapped(ks: [3]f64): f64 = sum(map(fn(k) => solve(k, 1.0, 2.0), ks))
// Two solves in a row, each over half the span, in a loop.
def looped(k: f64): f64 = (loop y = [1.0] for i < 2 do ode_dopri5(fn(t, y) => -k * y, y, f64(i), f64(i + 1), 1e-10, 1e-12))[0]
def matrix(K: [1][1]f64): f64 = ode_dopri5(fn(t, y) => -(K @ y), [1.0], 0.0, 2.0, 1e-10, 1e-12)[0]
def tuple(q: (f64, f64)): f64 = ode_dopri5(fn(t, y) => -(q.0 * q.1) * y, [1.0], 0.0, 2.0, 1e-10, 1e-12)[0]

def g_apart(k: f64) = grad(apart)(k)
def g_by_def(y0: f64) = grad(by_def)(y0)
def g_mapped(ks: [3]f64) = grad(mapped)(ks)
def f_mapped(ks: [3]f64) = jvp(mapped, ks, [1.0, 1.0, 1.0]).1
def g_looped(k: f64) = grad(looped)(k)
def h_looped(k: f64) = hessian(looped)(k)
def t_looped(k: f64) = taylor(looped, k, 1.0, 2)
def g_matrix(K: [1][1]f64) = grad(matrix)(K)
def g_tuple(q: (f64, f64)) = vjp(tuple, q, 1.0).1
def f_tuple(q: (f64, f64)) = jvp(tuple, q, (1.0, 0.0)).1
`
	p := mustCompile(t, src)
	const T = 2.0
	e := func(k float64) float64 { return math.Exp(-k * T) }
	ks := []float64{0.3, 0.7, 1.1}
	for _, c := range []struct {
		name string
		args []any
		want []float64
	}{
		{"g_apart", []any{0.7}, []float64{-T * e(0.7)}},
		{"g_by_def", []any{1.5}, []float64{e(0.5)}},
		{"g_mapped", []any{ks}, []float64{-T * e(ks[0]), -T * e(ks[1]), -T * e(ks[2])}},
		{"f_mapped", []any{ks}, []float64{-T * (e(ks[0]) + e(ks[1]) + e(ks[2]))}},
		{"g_looped", []any{0.7}, []float64{-T * e(0.7)}},
		{"h_looped", []any{0.7}, []float64{T * T * e(0.7)}},
		{"t_looped", []any{0.7}, []float64{e(0.7), -T * e(0.7), T * T * e(0.7) / 2}},
		{"g_matrix", []any{[][]float64{{0.7}}}, []float64{-T * e(0.7)}},
		{"g_tuple", []any{[]any{0.7, 2.0}}, []float64{-2 * T * e(1.4), -0.7 * T * e(1.4)}},
		{"f_tuple", []any{[]any{0.7, 2.0}}, []float64{-2 * T * e(1.4)}},
	} {
		got := flatAny(callAny(t, p, c.name, c.args...))
		if len(got) != len(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
			continue
		}
		for i := range got {
			// Each derivative is its own solve at rtol 1e-10.
			if math.Abs(got[i]-c.want[i]) > 1e-8*math.Max(1, math.Abs(c.want[i])) {
				t.Errorf("%s: %v, want %v", c.name, got, c.want)
				break
			}
		}
	}
}

// TestODEAdjointKeepsNoTape: the gradient of a solve is two solves (the
// primal and the backward adjoint system) and no loop at all, so nothing
// it keeps grows with the steps, on either backend (both run this IR).
func TestODEAdjointKeepsNoTape(t *testing.T) {
	const src = `
def loss(p: [2]f64): f64 = sum(ode_dopri5(fn(t, y) => [p[0] * y[1], -p[1] * y[0]], [1.0, 0.0], 0.0, 10.0, 1e-8, 1e-10) ^ 2)
def g(p: [2]f64) = grad(loss)(p)
`
	out := expandSource(t, src)
	solves, loops := 0, 0
	var count func(name string, seen map[string]bool)
	count = func(name string, seen map[string]bool) {
		if seen[name] {
			return
		}
		seen[name] = true
		d := out.Def(name)
		if d == nil {
			t.Fatalf("no def %s", name)
		}
		ir.Walk(d.Body, func(x ir.Expr, enter bool) {
			if !enter {
				return
			}
			switch x := x.(type) {
			case *ir.PrimCall:
				switch x.Op {
				case ir.PrimODE:
					solves++
				case ir.PrimLoopSave, ir.PrimWhileSave:
					loops++
				}
			case *ir.Loop:
				loops++
			case *ir.Global:
				count(x.Name, seen)
			case *ir.Call:
				if gl, ok := x.Fn.(*ir.Global); ok {
					count(gl.Name, seen)
				}
			}
		}, nil)
	}
	count("g", map[string]bool{})
	if solves != 2 || loops != 0 {
		t.Errorf("grad of a solve: %d solves and %d loops, want 2 and 0\n%s", solves, loops, ir.Print(out))
	}
}

func TestODEErrors(t *testing.T) {
	for _, c := range []struct {
		name, src string
		frags     []string
	}{
		{"closure over an array of tuples", `
def f(a: f64): f64 =
  let ps = [(a, 1.0), (2.0 * a, 2.0)]
  in ode_dopri5(fn(t, y) => y * ps[1].0, [1.0], 0.0, 1.0, 1e-8, 1e-10)[0]
def g(a: f64) = grad(f)(a)
`, []string{"ode_dopri5", "cannot carry", "t.nab:4:"}},
		{"a series in t1", `
def f(T: f64): f64 = ode_dopri5(fn(t, y) => -y, [1.0], 0.0, T, 1e-8, 1e-10)[0]
def g(T: f64) = taylor(f, T, 1.0, 2)
`, []string{"t0 and t1", "t.nab:2:"}},
	} {
		wantError(t, c.name, compileError(c.src), c.frags...)
	}
}
