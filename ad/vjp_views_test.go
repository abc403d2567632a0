package ad_test

import (
	"context"
	"math"
	"strings"
	"testing"

	"github.com/nabla-lang/nabla/internal/pipeline"
	"github.com/nabla-lang/nabla/ir"
)

// viewsSrc reads rows and slices of its parameters in a counted loop (as
// an LSTM's gates do) and in a comprehension (as a GMM's components do).
const viewsSrc = `
def lstmish(w: [r][m]f64, x: [n]f64): f64 =
  let (_, total) = loop (h, total) = (x, 0.0) for t < 3 do
    let row = w[t % r]
    let a = sigmoid(h * row[0:n] + row[n:2 * n])
    in (a, total + sum(a * row[0:n]))
  in total

def gmmish(w: [r][m]f64, x: [n]f64): f64 =
  sum([ let row = w[j] in sum(exp(row[0:n] * x) * row[n:2 * n]) for j < r ])

def dl(w: [r][m]f64, x: [n]f64) = grad(fn(w) => lstmish(w, x))(w)
def dg(w: [r][m]f64, x: [n]f64) = grad(fn(w) => gmmish(w, x))(w)
`

// TestVJPViewsReadAgain checks that the reverse passes of viewsSrc read
// the rows and slices they need again from their arrays rather than
// saving them on the tape (no tuple holds a value bound to a view), and
// that the gradients still agree with central differences.
func TestVJPViewsReadAgain(t *testing.T) {
	res, err := pipeline.Compile(context.Background(), "t.nab", []byte(viewsSrc), pipeline.Options{})
	if err != nil {
		t.Fatal(err)
	}
	vjps := 0
	for _, d := range res.Opt.Defs {
		if !strings.Contains(d.Name, "$vjp") {
			continue
		}
		vjps++
		views := map[*ir.Var]bool{}
		ir.Walk(d.Body, func(e ir.Expr, enter bool) {
			if l, ok := e.(*ir.Let); ok && enter {
				if pc, ok := l.Value.(*ir.PrimCall); ok && (pc.Op == ir.PrimSlice || pc.Op == ir.PrimIndex && ir.Rank(pc.T) >= 1) {
					views[l.Var] = true
				}
			}
		}, nil)
		ir.Walk(d.Body, func(e ir.Expr, enter bool) {
			if tu, ok := e.(*ir.MakeTuple); ok && enter {
				for _, el := range tu.Elems {
					if v, ok := el.(*ir.Var); ok && views[v] {
						t.Errorf("%s saves the view %s in %s", d.Name, v.Name, ir.PrintExpr(tu))
					}
				}
			}
		}, nil)
	}
	if vjps != 2 {
		t.Fatalf("%d VJP defs, want 2", vjps)
	}
	p := mustCompile(t, viewsSrc)
	w := [][]float64{{0.3, -0.7, 0.2, 1.1}, {-0.4, 0.9, 0.5, -0.6}}
	x := []float64{0.8, -0.25}
	for _, c := range []struct{ obj, grad string }{{"lstmish", "dl"}, {"gmmish", "dg"}} {
		got := flatAny(callAny(t, p, c.grad, w, x))
		want := fdJacobian(1, func(flat []float64) []float64 {
			return flatAny(callAny(t, p, c.obj, likeAny(w, flat), x))
		}, flatAny(w))
		if len(got) != len(want) {
			t.Fatalf("%s: %d partials, want %d", c.grad, len(got), len(want))
		}
		for i := range got {
			if math.Abs(got[i]-want[i]) > 1e-6*(1+math.Abs(want[i])) {
				t.Errorf("%s: partial %d is %g, differences give %g", c.grad, i, got[i], want[i])
			}
		}
	}
}
