package ad_test

import (
	"math"
	"testing"
)

// TestVJPOnlyForwardOverReverse: SPEC §6, differentiating the result of
// a @vjp rule (forward over reverse: hessian, hvp, jacfwd or jvp of grad)
// differentiates the rule's own code, though the def has no forward
// mode. Each rule is deliberately not its def's derivative, so that the
// results show which code was differentiated: rule(x, 1) is the gradient,
// and its derivative the Hessian, checked against a closed form and
// against central differences of the gradient.
func TestVJPOnlyForwardOverReverse(t *testing.T) {
	const defs = `
def cube_vjp(x: f64, ybar: f64): f64 = ybar * 3.0 * x * x * x
@vjp(cube_vjp)
def cube(x: f64): f64 = x * x * x
def sq_vjp(x: [n]f64, ybar: f64): [n]f64 = ybar * sin(x) * x
@vjp(sq_vjp)
def sq(x: [n]f64): f64 = sum(x * x)
def calls(x: f64): f64 = 2.0 * cube(x) + x * x
def pair_vjp(p: (f64, f64), ybar: f64) = (ybar * p.1, ybar * p.0 * p.0)
@vjp(pair_vjp)
def pair(a: f64, b: f64): f64 = a * b
`
	cases := []struct {
		name string
		expr string    // of x: [2]f64
		grad string    // the gradient whose Jacobian expr is, for the differences
		want []float64 // closed form at x
	}{
		// d/dx 3x³ = 9x²
		{"hessian", "hessian(cube)(x[0])", "grad(cube)(x[0])", []float64{9 * 1.5 * 1.5}},
		{"jacfwd of grad", "jacfwd(grad(cube))(x[0])", "grad(cube)(x[0])", []float64{9 * 1.5 * 1.5}},
		{"hvp", "hvp(cube, x[0], 2.0)", "2.0 * grad(cube)(x[0])", []float64{2 * 9 * 1.5 * 1.5}},
		{"jvp of grad", "jvp(grad(cube), x[0], 1.0).1", "grad(cube)(x[0])", []float64{9 * 1.5 * 1.5}},
		// d/dx (6x³ + 2x) = 18x² + 2, through a caller that needs only the rule
		{"through a caller", "hessian(calls)(x[0])", "grad(calls)(x[0])", []float64{18*1.5*1.5 + 2}},
		{"in a lambda", "hessian(fn(y) => 5.0 * cube(y) - y)(x[0])", "grad(fn(y) => 5.0 * cube(y) - y)(x[0])", []float64{45 * 1.5 * 1.5}},
		// the rule sin(x)·x elementwise: the Hessian is diagonal, sin(x) + x cos(x)
		{"array", "hessian(sq)(x)", "grad(sq)(x)", []float64{
			math.Sin(1.5) + 1.5*math.Cos(1.5), 0,
			0, math.Sin(-0.5) - 0.5*math.Cos(-0.5),
		}},
		// the rule (b, a²) of two parameters: its Jacobian [[0, 1], [2a, 0]]
		{"two parameters", "let h = hessian(pair)(x[0], x[1]) in [h.0.0, h.0.1, h.1.0, h.1.1]",
			"let g = grad(pair)(x[0], x[1]) in [g.0, g.1]", []float64{0, 1, 3, 0}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p := mustCompile(t, defs+"def main(x: [2]f64) = "+c.expr+"\ndef g(x: [2]f64) = "+c.grad+"\n")
			x := []float64{1.5, -0.5}
			got := flatAny(callAny(t, p, "main", x))
			tyCheck(t, "closed form", got, c.want, 1e-12)
			m := len(flatAny(callAny(t, p, "g", x)))
			fd := fdJacobian(m, func(x []float64) []float64 { return flatAny(callAny(t, p, "g", x)) }, x)
			// The differences are over both inputs; the operator's
			// result covers those main uses.
			var fdUsed []float64
			for i := range m {
				for j := range len(x) {
					if len(c.want) == m*len(x) || j == 0 {
						fdUsed = append(fdUsed, fd[i*len(x)+j])
					}
				}
			}
			tyCheck(t, "central differences", got, fdUsed, 1e-6)
		})
	}
}
