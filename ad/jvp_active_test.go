package ad_test

import (
	"testing"

	"github.com/nabla-lang/nabla/ir"
)

// TestJVPActiveParams: a call whose arguments carry no tangent (data a
// closure captures, a constant) gets a forward-mode def without tangent
// parameters for them, f$jvp_MASK, and the derivative is unchanged: the
// Hessian-vector product of a loss in w with data d, taken as jvp of
// grad, checked against its closed form, and the generated def's
// parameters counted.
func TestJVPActiveParams(t *testing.T) {
	const src = `
def loss(d: [n]f64, w: [n]f64, s: f64): f64 = s * sum((d * w) ^ 2) + sum(d)
def hv(d: [n]f64, w: [n]f64, v: [n]f64) = jvp(grad(fn(w: [n]f64) => loss(d, w, 3.0)), w, v).1
def both(d: [n]f64, w: [n]f64, v: [n]f64) = jvp(fn(d: [n]f64) => loss(d, w, 3.0), d, v).1
`
	cases := []struct {
		def    string
		jvp    string // the forward-mode def the call needs
		params int    // its parameters: primals (the VJP's with its seed), then the active tangents
		want   func(d, w, v []float64) []float64
	}{
		// d/dw 3 Σ (d w)² = 6 d² w; its derivative along v is 6 d² v.
		{"hv", "loss$vjp_010$jvp_0100", 5, func(d, w, v []float64) []float64 {
			out := make([]float64, len(d))
			for i := range d {
				out[i] = 6 * d[i] * d[i] * v[i]
			}
			return out
		}},
		// d/dd (3 Σ (d w)² + Σ d) along v: Σ (6 d w² + 1) v.
		{"both", "loss$jvp_100", 4, func(d, w, v []float64) []float64 {
			s := 0.0
			for i := range d {
				s += (6*d[i]*w[i]*w[i] + 1) * v[i]
			}
			return []float64{s}
		}},
	}
	out := expandSource(t, src)
	prog := mustCompile(t, src)
	d, w, v := []float64{1, -2, 0.5}, []float64{0.3, 0.7, -1}, []float64{2, 1, -3}
	for _, c := range cases {
		t.Run(c.def, func(t *testing.T) {
			j := out.Def(c.jvp)
			if j == nil {
				var names []string
				for _, d := range out.Defs {
					names = append(names, d.Name)
				}
				t.Fatalf("no def %s among %v\n%s", c.jvp, names, ir.Print(out))
			}
			if len(j.Params) != c.params {
				t.Errorf("%s has %d parameters, want %d", c.jvp, len(j.Params), c.params)
			}
			got := flatAny(callAny(t, prog, c.def, d, w, v))
			tyCheck(t, c.def, got, c.want(d, w, v), 1e-12)
		})
	}
}
