package ad_test

import (
	"math"
	"testing"
)

// nestedTapeSrc differentiates, in reverse, comprehensions whose elements
// take an inner gradient through loops of tuples: reverse mode saves the
// inner loop's tape of tuples per element, an array of arrays of tuples
// (one more level per enclosing comprehension) that it must also
// differentiate. fz is the differential fuzzer's finding (seed
// 265971981933d88e); g1 is the same shape with loops that run.
const nestedTapeSrc = `
def fz(a: f64, w: [n]f64): f64 =
  (loop s1 = sum((a * w)) for i2 < 0 do (loop s3 = pow(1.0 + a * s1, tanh(a)) for i4 < 3 do grad(fn(y5: f64) => a)(s3)))
def hz(x: f64, v: [n]f64): [n]f64 =
  [log(1.0 + grad(fn(y19: f64) => fz(y19, v))(x)) for i18 < n]
def hzv(x: f64, v: [n]f64, yb: [n]f64) = vjp(hz, (x, v), yb).1

def g1(a: f64, w: [n]f64): f64 =
  (loop s1 = sum((a * w)) for i2 < 2 do (loop s3 = pow(1.0 + a * s1 * s1, tanh(a)) for i4 < 3 do s3 * 0.5 + grad(fn(y5: f64) => a * y5 * y5)(s3)))
def h1(x: f64, v: [n]f64): [n]f64 =
  [log(1.0 + grad(fn(y: f64) => g1(y * v[i], v))(x)) for i < n]
def h1v(x: f64, v: [n]f64, yb: [n]f64) = vjp(h1, (x, v), yb).1
def h2(x: f64, v: [n]f64): [n][n]f64 =
  [[log(1.0 + grad(fn(y: f64) => g1(y * v[i], v))(x * v[j])) for j < n] for i < n]
def h2v(x: f64, v: [n]f64, yb: [n][n]f64) = vjp(h2, (x, v), yb).1
def h3(x: f64, v: [n]f64): [1]f64 =
  [sum([sum([sum(h2(x * v[i] + v[j], v)) for j < n]) for i < n])]
def h3v(x: f64, v: [n]f64, yb: [1]f64) = vjp(h3, (x, v), yb).1
`

// TestVJPNestedTapes checks the vector-Jacobian products of nestedTapeSrc
// against central differences of the functions themselves.
func TestVJPNestedTapes(t *testing.T) {
	if msg := compileError(nestedTapeSrc); msg != "" {
		t.Fatalf("compile: %s", msg)
	}
	p := mustCompile(t, nestedTapeSrc)
	v := []float64{0.5, -0.2, 0.7}
	for _, c := range []struct {
		f  string
		x  float64
		v  []float64
		yb any
	}{
		{"hz", 0.3, v, []float64{1, 2, 3}},
		{"h1", 0.3, v, []float64{1, -2, 0.5}},
		{"h2", 0.3, v[:2], [][]float64{{1, 2}, {-3, 0.25}}},
		{"h3", 0.2, v[:2], []float64{1.5}},
	} {
		t.Run(c.f, func(t *testing.T) {
			in := []any{c.x, c.v}
			got := flatAny(callAny(t, p, c.f+"v", c.x, c.v, c.yb))
			yb := flatAny(c.yb)
			jac := fdJacobian(len(yb), func(flat []float64) []float64 {
				xv := likeAny(in, flat).([]any)
				return flatAny(callAny(t, p, c.f, xv[0], xv[1]))
			}, flatAny(in))
			if len(got) != len(jac)/len(yb) {
				t.Fatalf("%d partials, want %d", len(got), len(jac)/len(yb))
			}
			for k := range got {
				want := 0.0
				for i, w := range yb {
					want += w * jac[i*len(got)+k]
				}
				if math.Abs(got[k]-want) > 1e-5*(1+math.Abs(want)) {
					t.Errorf("partial %d is %g, differences give %g", k, got[k], want)
				}
			}
		})
	}
}
