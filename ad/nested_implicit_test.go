package ad_test

import (
	"fmt"
	"math"
	"testing"
)

// nestedImplicit: implicit functions whose linear systems depend on the
// differentiated input (SPEC §6, "Implicit functions nest"). Every
// primal solution hides its iterations behind stop_gradient, so only the
// implicit function theorem (applied again for second derivatives, and
// through the inner function for nested ones) gives derivatives; they are
// compared with finite differences of the primal and of the gradient.
const nestedImplicit = `
def A = [[4.0, 1.0], [1.0, 3.0]]
def Fl(x: [2]f64, b: [2]f64): [2]f64 = A @ x - b
@implicit(Fl)
def lsolve(b: [2]f64): [2]f64 = stop_gradient(loop x = zeros(2) for i < 150 do x - 0.1 * Fl(x, b))

// dF/dx depends on theta: the systems of the second derivatives do too.
def Fn(x: [2]f64, th: [2]f64): [2]f64 = [th[0] * x[0] + x[1] * x[1] * x[1] - 1.0, x[0] + th[1] * x[1] - 2.0]
@implicit(Fn)
def nsolve(th: [2]f64): [2]f64 = stop_gradient(loop x = [0.2, 0.6] for i < 60 do
  let j00 = th[0]
  let j01 = 3.0 * x[1] * x[1]
  let j10 = 1.0
  let j11 = th[1]
  let det = j00 * j11 - j01 * j10
  let r = Fn(x, th)
  in [x[0] - (j11 * r[0] - j01 * r[1]) / det, x[1] - (j00 * r[1] - j10 * r[0]) / det])

// An implicit function whose equation depends on another implicit one.
def F2(z: f64, t: f64): f64 = z * z * z + z - sum(lsolve([t, 2.0 * t]))
@implicit(F2)
def s2(t: f64): f64 = stop_gradient(loop z = 0.0 for i < 30 do z - F2(z, t) / (3.0 * z * z + 1.0))

// A scalar implicit function of a scalar whose derivative in x depends on t.
def F3(x: f64, t: f64): f64 = t * x * x * x + x - 1.0
@implicit(F3)
def s3(t: f64): f64 = stop_gradient(loop x = 1.0 for i < 100 do x - F3(x, t) / (3.0 * t * x * x + 1.0))

def f_lin(b: [2]f64): f64 = sum(lsolve(b) * lsolve(b))
def f_n(th: [2]f64): f64 = sum(sin(nsolve(th)))
def f_nested(t: f64): f64 = s2(t) * s2(t)
def f_s3(t: f64): f64 = exp(s3(t))
def f_mix(p: [2]f64): f64 = s3(p[0]) * sum(nsolve(p + 1.5))
`

func TestNestedImplicit(t *testing.T) {
	cases := []struct {
		f string
		x any
	}{
		{"f_lin", []float64{1, 2}},
		{"f_n", []float64{1.5, 2.5}},
		{"f_nested", 1.5},
		{"f_s3", 0.7},
		{"f_mix", []float64{0.6, 0.9}},
	}
	src := nestedImplicit
	for _, c := range cases {
		T, dot := "f64", "*"
		if _, ok := c.x.([]float64); ok {
			T, dot = "[2]f64", "@"
		}
		src += fmt.Sprintf("def %[1]s_g(x: %[2]s) = grad(%[1]s)(x)\ndef %[1]s_j(x: %[2]s, v: %[2]s) = jvp(%[1]s, x, v).1\n"+
			"def %[1]s_h(x: %[2]s) = hessian(%[1]s)(x)\ndef %[1]s_hr(x: %[2]s) = jacrev(grad(%[1]s))(x)\n"+
			"def %[1]s_gg(x: %[2]s, v: %[2]s) = grad(fn(y: %[2]s) => grad(%[1]s)(y) %[3]s v)(x)\n", c.f, T, dot)
	}
	p := mustCompile(t, src)
	for _, c := range cases {
		t.Run(c.f, func(t *testing.T) {
			xs := flatAny(c.x)
			n := len(xs)
			fx := func(v []float64) []float64 { return flatAny(callAny(t, p, c.f, likeAny(c.x, v))) }
			g := flatAny(callAny(t, p, c.f+"_g", c.x))
			tyCheck(t, "grad", g, fdJacobian(1, fx, xs), 1e-6)
			v := make([]float64, n)
			for i := range v {
				v[i] = 0.3 + 0.2*float64(i)
			}
			jv := flatAny(callAny(t, p, c.f+"_j", c.x, likeAny(c.x, v)))
			want := 0.0
			for i := range v {
				want += g[i] * v[i]
			}
			tyCheck(t, "jvp", jv, []float64{want}, 1e-9)
			hfd := fdJacobian(n, func(w []float64) []float64 { return flatAny(callAny(t, p, c.f+"_g", likeAny(c.x, w))) }, xs)
			tyCheck(t, "hessian (forward over reverse)", flatAny(callAny(t, p, c.f+"_h", c.x)), hfd, 1e-6)
			tyCheck(t, "jacrev of grad (reverse over reverse)", flatAny(callAny(t, p, c.f+"_hr", c.x)), hfd, 1e-6)
			hv := make([]float64, n)
			for i := range n {
				for j := range n {
					hv[i] += hfd[i*n+j] * v[j]
				}
			}
			tyCheck(t, "grad of grad·v", flatAny(callAny(t, p, c.f+"_gg", c.x, likeAny(c.x, v))), hv, 1e-6)
		})
	}
}

// TestImplicitTupleParameter: an implicit def of a tuple parameter, in
// every mode (its reverse mode negated the tuple cotangent, which panicked).
func TestImplicitTupleParameter(t *testing.T) {
	p := mustCompile(t, `
def F(x: f64, p: (f64, f64)): f64 = x * x - p.0 * p.1
@implicit(F)
def s(p: (f64, f64)): f64 = stop_gradient(sqrt(p.0 * p.1))
def g(a: f64, b: f64) = grad(fn(a, b) => s((a, b)))(a, b)
def j(a: f64, b: f64) = jvp(fn(a, b) => s((a, b)), (a, b), (1.0, 0.0)).1
def h(a: f64, b: f64) = hessian(fn(a, b) => s((a, b)))(a, b)
def tt(a: f64) = taylor(fn(a) => s((a, 2.0)), a, 1.0, 3)
`)
	a, b := 2.0, 8.0 // s = sqrt(ab) = 4
	sq := math.Sqrt(a * b)
	tyCheck(t, "grad", flatAny(callAny(t, p, "g", a, b)), []float64{b / (2 * sq), a / (2 * sq)}, 1e-12)
	tyCheck(t, "jvp", flatAny(callAny(t, p, "j", a, b)), []float64{b / (2 * sq)}, 1e-12)
	// H = [[-b²/4, ab/4], [ab/4, -a²/4]] / (ab)^(3/2)
	q := math.Pow(a*b, 1.5)
	want := []float64{-b * b / 4 / q, a * b / 4 / q, a * b / 4 / q, -a * a / 4 / q}
	tyCheck(t, "hessian", flatAny(callAny(t, p, "h", a, b)), want, 1e-10)
	// sqrt(2(a + t)) = √2·(a + t)^(1/2)
	ts := binomSeries(a, 0.5, 3)
	for j := range ts {
		ts[j] *= math.Sqrt2
	}
	tyCheck(t, "taylor", flatAny(callAny(t, p, "tt", a)), ts, 1e-12)
}
